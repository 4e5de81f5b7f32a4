"""Reference: a plain Python loop with Pillow that loads, orients, converts and resizes every image."""
import json, os, resource, sys, time
from PIL import Image, ImageOps

root, size = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter()
pixels = bytearray()
count = 0
for dirpath, dirnames, filenames in os.walk(root):
    dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
    for name in sorted(filenames):
        if name.startswith('.') or not name.lower().endswith(('.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp', '.tif', '.tiff')):
            continue
        with Image.open(os.path.join(dirpath, name)) as im:
            im = ImageOps.exif_transpose(im).convert('L')
            if im.size != (size, size):
                im = ImageOps.fit(im, (size, size))
            pixels += im.tobytes()
            count += 1
seconds = time.perf_counter() - t0
print(json.dumps({"imported": count, "seconds": seconds, "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
