"""A torch ``nn.Module`` of Linear layers and activations as a gradients function: its autograd, derive's parameters.

The module is copied and turned to float64 (the user's own module is left as it was); derive's seeded
parameters go into its Linear layers in order (torch's ``Linear.weight`` is (out, in), derive's W layout,
and its bias (out,)); the module's forward runs on x, the spec's loss is applied to its outputs and
averaged over the batch, and ``backward()`` gives the ``.grad`` of each Linear layer.

What the module must look like:

- an ``nn.Sequential`` (nested ones flattened) of Linear layers, each followed by the modules of its
  activation: these are seen, and each is checked on a probe against the spec's activation of that layer
  (a subclass of Sequential with a forward of its own is of the next kind);
- or any module whose Linear layers are attributes in the order of the layers, with a forward of its own:
  then only the number of layers, their widths and biases can be checked.

Either way no parameter may live outside the Linear layers. The outputs are the network's output a⁽ᴸ⁾,
except that when the spec's loss needs outputs in (0, 1) (cross-entropy, binary cross-entropy) a module may
return the logits z⁽ᴸ⁾ instead, as torch's ``CrossEntropyLoss`` and ``BCEWithLogitsLoss`` take them, and
derive applies the spec's output activation. A Sequential says which by ending in its Linear layer or not;
a module of its own is probed once on 64 samples: outputs outside the output activation's range (or, for a
layer-wide one, rows that do not sum to one) are logits. The failure message says which was assumed.

torch is imported only here and only when such a module is passed: derive works without it.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Mapping

import numpy as np

from derive.adapters.base import Adapted, layer_names, targets
from derive.errors import DeriveError
from derive.model import samples
from derive.model.network import Network

PROBE_SAMPLES = 64  # the batch on which a module with a forward of its own shows whether it returns logits


def is_module(thing: object) -> bool:
    """Whether ``thing`` is a torch module (torch is in sys.modules once any of its objects exists)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(thing, torch.nn.Module)


def _fail(text: str) -> AssertionError:
    return AssertionError(f"torch module: {text}")


class TorchModule(Adapted):
    def __init__(self, module: object, net: Network) -> None:
        super().__init__(net)
        import torch

        self.torch = torch
        try:
            self.module = copy.deepcopy(module).to(dtype=torch.float64).eval()
        except Exception as error:  # noqa: BLE001 - whatever stops the copy, said in one line
            raise DeriveError(f"assert_gradients: cannot copy your torch module to float64: {error}") from None
        self.device = next((p.device for p in self.module.parameters()), torch.device("cpu"))
        self.kind = type(module).__name__
        groups = _sequence(torch, self.module)
        self.linears = [lin for lin, _ in groups] if groups is not None else _attributes(torch, self.module)
        _check_parameters(self.module, self.linears)
        _check_linears(self.linears, net)
        self.empty_grads: list[str] = []
        if groups is not None:
            self.logits = _check_activations(torch, groups, net)
            self.seen = "its activations checked on a probe"
        else:
            self.logits = self._probe_logits()
            self.seen = "a forward of its own, so its activations were not checked"

    # ---------------------------------------------------------------- running the module
    def _load(self, params: Mapping[str, np.ndarray]) -> None:
        with self.torch.no_grad():
            for layer, lin in enumerate(self.linears, start=1):
                for name, tensor in zip(layer_names(layer, self.net.bias), (lin.weight, lin.bias), strict=False):
                    tensor.copy_(self.torch.as_tensor(np.asarray(params[name], dtype=np.float64)))

    def _forward(self, x: np.ndarray):
        out = self.module(self.torch.as_tensor(np.asarray(x, dtype=np.float64), device=self.device))
        if not isinstance(out, self.torch.Tensor):
            raise _fail(f"its forward returned {type(out).__name__}, expected a tensor")
        m, n = len(x), self.net.outputs
        if out.shape == (m,) and n == 1:
            out = out.reshape(m, 1)
        if tuple(out.shape) != (m, n):
            raise _fail(f"its forward returned shape {tuple(out.shape)} for {m} samples, expected ({m}, {n})")
        return out

    def _probe_logits(self) -> bool:
        """Whether a module with a forward of its own returns logits (only asked where the loss allows them)."""
        act = self.net.activation(self.net.depth)
        if self.net.loss_def.output_activations is None:
            return False
        params, x, _ = samples.random_batch(self.net, np.random.default_rng(0), PROBE_SAMPLES)
        self._load(params)
        with self.torch.no_grad():
            out = self._forward(x).cpu().numpy()
        low, high = act.output_range
        inside = bool(np.all((out > low) & (out < high)))
        if not act.elementwise:
            inside = inside and bool(np.allclose(out.sum(axis=1), 1.0, rtol=0.0, atol=1e-9))
        return not inside

    def gradients(self, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        torch = self.torch
        self._load(params)
        self.module.zero_grad(set_to_none=True)
        out = self._forward(x)
        a = self.net.activation(self.net.depth).torch(torch, out) if self.logits else out
        target = torch.as_tensor(targets(y, self.net.outputs), device=self.device)
        self.net.loss_def.torch(torch, a, target).mean().backward()
        grads: dict[str, np.ndarray] = {}
        self.empty_grads = []
        for layer, lin in enumerate(self.linears, start=1):
            for name, tensor in zip(layer_names(layer, self.net.bias), (lin.weight, lin.bias), strict=False):
                if tensor.grad is None:
                    self.empty_grads.append(name)
                    grads[name] = np.zeros(tuple(tensor.shape))
                else:
                    grads[name] = tensor.grad.detach().cpu().numpy().copy()
        return grads

    def about(self) -> str:
        act = self.net.activation(self.net.depth)
        if self.logits:
            outputs = f"read as logits z⁽ᴸ⁾, the spec's {act.name} applied by derive"
        else:
            outputs = "read as the network's output a⁽ᴸ⁾"
        text = (
            f"yours is torch autograd's .grad, in float64, of the spec's {self.net.loss} of your {self.kind}'s"
            f" outputs ({outputs}; {self.seen}), averaged over the batch"
        )
        if self.empty_grads:
            text += f"; no gradient reached {', '.join(self.empty_grads)} (.grad None: detached from the graph?)"
        return text


# -------------------------------------------------------------------- the module's structure
def _flatten(torch, module) -> list:
    out = []
    for child in module.children():
        out += _flatten(torch, child) if isinstance(child, torch.nn.Sequential) else [child]
    return out


def _sequence(torch, module) -> list[tuple[object, list]] | None:
    """Each Linear layer of a Sequential with the modules after it, or None for a module of another kind.

    A subclass of Sequential with a forward of its own is of another kind: its children may not be what runs.
    """
    if not isinstance(module, torch.nn.Sequential) or type(module).forward is not torch.nn.Sequential.forward:
        return None
    groups: list[tuple[object, list]] = []
    for child in _flatten(torch, module):
        if isinstance(child, torch.nn.Linear):
            groups.append((child, []))
        elif not groups:
            raise _fail(f"it starts with {child}, not with a Linear layer")
        else:
            groups[-1][1].append(child)
    return groups


def _attributes(torch, module) -> list:
    return [child for child in module.modules() if isinstance(child, torch.nn.Linear)]


def _check_parameters(module, linears: list) -> None:
    inside = {id(p) for lin in linears for p in lin.parameters()}
    for name, p in module.named_parameters():
        if id(p) not in inside:
            raise _fail(f"it has a parameter {name!r} outside its Linear layers, which derive's network does not have")


def _check_linears(linears: list, net: Network) -> None:
    if len(linears) != net.depth:
        raise _fail(f"it has {len(linears)} Linear layers, the spec {net.depth} layers")
    for layer, lin in enumerate(linears, start=1):
        spec = (net.sizes[layer - 1], net.sizes[layer])
        if (lin.in_features, lin.out_features) != spec:
            raise _fail(
                f"Linear layer {layer} maps {lin.in_features} → {lin.out_features},"
                f" the spec's layer {layer} {spec[0]} → {spec[1]}"
            )
        if (lin.bias is not None) != net.bias:
            has = "has a bias" if lin.bias is not None else "has no bias"
            raise _fail(f"Linear layer {layer} {has}, the spec's layers {'have' if net.bias else 'have none'}")


def _check_activations(torch, groups: list[tuple[object, list]], net: Network) -> bool:
    """Check each layer's modules after its Linear on a probe; True when the last layer returns logits."""
    logits = False
    for layer, (_, after) in enumerate(groups, start=1):
        act = net.activation(layer)
        n = net.sizes[layer]
        z = torch.linspace(-3.0, 3.0, 4 * n, dtype=torch.float64).reshape(4, n)
        with torch.no_grad():
            seen = z
            for child in after:
                seen = child(seen)
        if layer == net.depth and net.loss_def.output_activations is not None and torch.equal(seen, z):
            logits = True  # a loss that needs outputs in (0, 1) takes logits too: derive applies the activation
            continue
        expected = act.numpy(z.numpy())
        if tuple(seen.shape) != expected.shape or not np.allclose(seen.numpy(), expected, rtol=1e-9, atol=1e-12):
            applied = ", ".join(str(child) for child in after) or "nothing"
            options = "".join(f" ({key} {value})" for key, value in act.options.items())
            raise _fail(f"after Linear layer {layer} it applies {applied}, not the spec's {act.name}{options}")
    return logits
