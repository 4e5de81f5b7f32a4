"""Reference: the identical conv CVAE in PyTorch (Debian's python3-torch), CPU, 2 threads.
Prints training images/s, generation samples/s and peak RSS as one JSON line. SIZE, CHANNELS,
LATENT, BASE and RECONSTRUCTION (bce or gaussian) give it the shape and loss Synthfold resolved
(bench/train/run.mjs passes them); the defaults are the 28x28 gray model."""
import json, math, os, resource, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get('THREADS', '2')))
torch.manual_seed(0)
K, D, B = 10, int(os.environ.get('LATENT', '16')), int(os.environ.get('BATCH', '128'))
S, C, BASE = int(os.environ.get('SIZE', '28')), int(os.environ.get('CHANNELS', '1')), int(os.environ.get('BASE', '32'))
REC = os.environ.get('RECONSTRUCTION', 'bce')


def downsamplings(size):
    """As src/core/models/cvae/model.ts: halve while even and >= 4 px, at most 4 times."""
    n = 0
    while n < 4 and size % 2 == 0 and size // 2 >= 4:
        size //= 2
        n += 1
    return n


N = downsamplings(S)
START = S // 2 ** N
width = lambda level: min(256, BASE * 2 ** level)
TOP = width(N - 1)
steps, warmup = int(sys.argv[1]) if len(sys.argv) > 1 else 40, 20  # warm-up as bench/train/tfjs-cvae.ts


class CVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(C if i == 0 else width(i - 1), width(i), 3, 2, 1) for i in range(N))
        self.fc = nn.Linear(START * START * TOP + K, 256)
        self.mu = nn.Linear(256, D)
        self.logvar = nn.Linear(256, D)
        self.dfc = nn.Linear(D + K, START * START * TOP)
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(width(i), width(i - 1), 4, 2, 1) for i in range(N - 1, 0, -1))
        self.out = nn.ConvTranspose2d(width(0), C, 4, 2, 1)

    def decode(self, z, y):
        h = F.relu(self.dfc(torch.cat([z, y], 1))).view(-1, TOP, START, START)
        for up in self.ups:
            h = F.leaky_relu(up(h), 0.2)
        return self.out(h)

    def forward(self, x, y):
        h = x
        for conv in self.convs:
            h = F.leaky_relu(conv(h), 0.2)
        h = h.flatten(1)
        h = F.relu(self.fc(torch.cat([h, y], 1)))
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decode(z, y), mu, logvar


model = CVAE()
opt = torch.optim.Adam(model.parameters(), 1e-3)
x = torch.rand(B, C, S, S)


def gaussian_nll(logits, target):
    """src/core/models/cvae/loss.ts's gaussianNll: one maximum-likelihood scale per channel."""
    squared = ((torch.sigmoid(logits) - target) ** 2).sum((0, 2, 3))
    count = target.shape[0] * target.shape[2] * target.shape[3]
    var = torch.clamp(squared / count, min=0.01 ** 2)
    return (squared / (2 * var) + count / 2 * torch.log(2 * math.pi * var)).sum() / target.shape[0]
y = F.one_hot(torch.randint(0, K, (B,)), K).float()


def step():
    logits, mu, logvar = model(x, y)
    rec = (gaussian_nll(logits, x) if REC == 'gaussian'
           else F.binary_cross_entropy_with_logits(logits, x, reduction='sum') / B)
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

if os.environ.get('PROFILE') == '1':
    # where a step's time goes (bench/train/profile.ts prints the same for Synthfold's side)
    from torch.profiler import profile, ProfilerActivity
    n = 10
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(n):
            step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events) / n / 1000
    print(f'profile: {S}x{S}x{C}, batch {B}, {torch.get_num_threads()} threads; step {total:.2f} ms of operator time')
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[:18]:
        ms = e.self_cpu_time_total / n / 1000
        print(f'  {e.key:<40} {ms:8.3f} ms {100 * ms / total:6.1f}%  x{e.count / n:g}')

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
