"""Train the seed's flower network with a plain PyTorch loop and torchnn modules only.

    .venv/bin/python scripts/train_torch.py             # explicit backprop, 10,000 iterations
    .venv/bin/python scripts/train_torch.py --backward autograd

No Lightning: the data set comes from ``torchnn.data.make_flower`` and the loop is the seed's
Algorithm 1.1, w := w - α dw, with the gradients of eqs. 2.9-2.12.
"""

import argparse
import time

import torch

import torchnn
from torchnn.data import make_flower


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10_000, help="the seed's 10,000")
    parser.add_argument("--lr", type=float, default=1.2, help="the learning rate α")
    parser.add_argument("--backward", choices=["explicit", "autograd"], default="explicit")
    args = parser.parse_args()

    torch.set_num_threads(1)  # tiny matrices: threads only add synchronisation
    torch.manual_seed(1)
    X, Y = make_flower(seed=1)  # (400, 2), (400,)
    x = torch.as_tensor(X, dtype=torch.float32)
    x = (x - x.mean(0)) / x.std(0, unbiased=False)  # standardise, as the DataModule does
    y = torch.as_tensor(Y, dtype=torch.float32).unsqueeze(1)  # (400, 1)
    net = torchnn.DeepNetwork([2, 4, 1], hidden_activation="tanh", output_activation="sigmoid")

    start = time.perf_counter()
    for i in range(args.iterations):
        net.zero_grad(set_to_none=True)
        if args.backward == "explicit":
            cost = net.backprop(x, y)  # J, and dW, db into every .grad (eqs. 2.9-2.12)
        else:
            cost = net.cost(x, y)
            cost.backward()  # autograd through the hand-written Functions
        with torch.no_grad():
            for p in net.parameters():
                p -= args.lr * p.grad  # w := w - α dw  (Algorithm 1.1)
        if i % 1000 == 0:
            print(f"Cost after iteration {i}: {cost.item():.6f}")
    accuracy = (net.predict(x) == y).float().mean().item()
    print(f"Training accuracy: {100 * accuracy:.1f}% "
          f"({args.iterations} iterations in {time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
