"""Reference: the identical 28x28 conv CVAE in PyTorch (Debian's python3-torch), CPU, 2 threads.
Prints training images/s, generation samples/s and peak RSS as one JSON line."""
import json, os, resource, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get('THREADS', '2')))
torch.manual_seed(0)
K, D, B = 10, 16, int(os.environ.get('BATCH', '128'))
steps, warmup = int(sys.argv[1]) if len(sys.argv) > 1 else 40, 20  # warm-up as bench/train/tfjs-cvae.ts


class CVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3, 2, 1)
        self.c2 = nn.Conv2d(32, 64, 3, 2, 1)
        self.fc = nn.Linear(7 * 7 * 64 + K, 256)
        self.mu = nn.Linear(256, D)
        self.logvar = nn.Linear(256, D)
        self.dfc = nn.Linear(D + K, 7 * 7 * 64)
        self.t1 = nn.ConvTranspose2d(64, 32, 4, 2, 1)
        self.t2 = nn.ConvTranspose2d(32, 1, 4, 2, 1)

    def decode(self, z, y):
        h = F.relu(self.dfc(torch.cat([z, y], 1))).view(-1, 64, 7, 7)
        return self.t2(F.leaky_relu(self.t1(h), 0.2))

    def forward(self, x, y):
        h = F.leaky_relu(self.c2(F.leaky_relu(self.c1(x), 0.2)), 0.2).flatten(1)
        h = F.relu(self.fc(torch.cat([h, y], 1)))
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decode(z, y), mu, logvar


model = CVAE()
opt = torch.optim.Adam(model.parameters(), 1e-3)
x = torch.rand(B, 1, 28, 28)
y = F.one_hot(torch.randint(0, K, (B,)), K).float()


def step():
    logits, mu, logvar = model(x, y)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction='sum') / B
    kl = (0.5 * (mu ** 2 + logvar.exp() - 1 - logvar)).sum(1).mean()
    loss = rec + kl
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 100.0)
    opt.step()


for _ in range(warmup):
    step()
t = time.perf_counter()
for _ in range(steps):
    step()
train = steps * B / (time.perf_counter() - t)

with torch.no_grad():
    z = torch.randn(256, D)
    yy = F.one_hot(torch.randint(0, K, (256,)), K).float()
    for _ in range(3):
        torch.sigmoid(model.decode(z, yy))
    t = time.perf_counter()
    reps = 20
    for _ in range(reps):
        torch.sigmoid(model.decode(z, yy))
    gen = reps * 256 / (time.perf_counter() - t)

print(json.dumps({"trainImagesPerSecond": train, "samplesPerSecond": gen, "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "threads": torch.get_num_threads(), "torch": torch.__version__}))
