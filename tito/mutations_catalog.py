"""Planted bugs per module, for the mutation check (``tito/mutations.py``).

Run by ``tests/test_mutations.py``.

Each entry is an exact snippet of the reference and the bug that replaces it. Good mutants
imitate a learner's real mistakes: a wrong sign, swapped operands, a forgotten un-broadcast, a
missing stability shift, keepdim ignored. Each must make at least one of its module's tests
fail; a snippet that stops occurring exactly once in the reference fails the test suite, so
update the entry when the code it names changes.

Instructor-only: ``tito release`` blanks this file in the student copy (the snippets are
pieces of the solutions). Modules whose tests do not exist yet are skipped by the kill check;
their snippets are still checked.
"""

from tito.mutations import Mutation

OPS = "tinytorch/core/tensor_ops.py"
ACT = "tinytorch/core/activations.py"
LOSS = "tinytorch/core/losses.py"
AUTOGRAD = "tinytorch/core/autograd.py"
LAYERS = "tinytorch/core/layers.py"
INIT = "tinytorch/core/init.py"
OPT = "tinytorch/core/optimizers.py"
SCH = "tinytorch/core/schedulers.py"
CK = "tinytorch/core/checkpoint.py"
TR = "tinytorch/core/training.py"
DL = "tinytorch/data/dataloader.py"
CONV = "tinytorch/core/conv.py"
IM2COL = "tinytorch/core/im2col.py"
POOL = "tinytorch/core/pooling.py"
DROPOUT2D = "tinytorch/core/dropout2d.py"
BN = "tinytorch/core/normalization.py"

CATALOG: dict[int, list[Mutation]] = {
    1: [
        Mutation("sub-swapped", OPS, "np.subtract(a, b)", "np.subtract(b, a)",
                 "a - b computed as b - a"),
        Mutation("sum-ignores-keepdim", OPS, "np.sum(a, axis=axis, keepdims=keepdim)",
                 "np.sum(a, axis=axis)", "sum(dim, keepdim=True) drops the axis"),
        Mutation("permute-ignores-dims", OPS, "return np.transpose(a, dims)",
                 "return np.transpose(a)", "permute reverses the axes whatever dims says"),
        Mutation('div-swapped', OPS, 'out = np.true_divide(a, b)',
                 'out = np.true_divide(b, a)'),
        Mutation('matmul-elementwise', OPS, '        ctx.save_for_backward(a, b)\n        return np.matmul(a, b)',
                 '        ctx.save_for_backward(a, b)\n        return np.dot(a, b)'),
        Mutation('mean-ignore-keepdim', OPS, 'out = np.mean(a, axis=axis, keepdims=keepdim)',
                 'out = np.mean(a, axis=axis)'),
        Mutation('var-biased', OPS, 'denom = max(n - correction, 0)',
                 'denom = n'),
        Mutation('cat-axis0', OPS, 'return np.concatenate(arrays, axis=axis)',
                 'return np.concatenate(arrays, axis=0)'),
        Mutation('where-swapped', OPS, 'return _float32_unless_asked(np.where(cond, a, b), a, b)',
                 'return _float32_unless_asked(np.where(cond, b, a), a, b)'),
    ],
    2: [
        Mutation("relu-identity", ACT, "out = np.maximum(x, 0).astype(x.dtype, copy=False)",
                 "out = x.copy()", "relu returns its input"),
        Mutation("softmax-no-shift", ACT,
                 "out = np.exp(x - np.max(x, axis=axis, keepdims=True))",
                 "out = np.exp(x)",
                 "softmax without the max shift overflows on large logits"),
        Mutation('leaky-fixed-slope', ACT, 'return np.where(x > 0, x, x * negative_slope)',
                 'return np.where(x > 0, x, x * 0.01)'),
        Mutation('silu-is-sigmoid', ACT, '        ctx.save_for_backward(x, s)\n        return x * s',
                 '        ctx.save_for_backward(x, s)\n        return s'),
        Mutation('relu-negative', ACT, 'out = np.maximum(x, 0).astype(x.dtype, copy=False)',
                 'out = np.minimum(x, 0).astype(x.dtype, copy=False)'),
    ],
    3: [
        Mutation("linear-no-transpose", LAYERS, "out = input @ weight.T  #", "out = input @ weight.T.T  #",
                 "Linear multiplies by W instead of W^T"),
        Mutation("linear-no-bias", LAYERS, "        out = out + bias  # (out,)", "        out = out  # (out,)",
                 "bias forgotten"),
        Mutation("dropout-no-scale", LAYERS, "scale = np.asarray(1.0 / (1.0 - p), dtype=input.dtype)",
                 "scale = np.asarray(1.0, dtype=input.dtype)", "dropout without inverted scaling"),
        Mutation("dropout-keep-p", LAYERS, "keep = rng.random(input.shape, dtype=np.float32) >= p",
                 "keep = rng.random(input.shape, dtype=np.float32) < p", "dropout keeps p instead of 1 - p"),
        Mutation("seq-only-first", LAYERS, "            input = module(input)\n        return input",
                 "            return module(input)\n        return input", "Sequential stops after one layer"),
        Mutation("flatten-from-0", LAYERS, "return input.flatten(self.start_dim, self.end_dim)",
                 "return input.flatten(0, self.end_dim)", "Flatten also flattens the batch"),
        Mutation("kaiming-no-sqrt3", INIT, "    bound = math.sqrt(3.0) * std\n    return uniform_",
                 "    bound = std\n    return uniform_", "uniform bound taken as the std"),
        Mutation("xavier-sum-fans", INIT, "    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))\n    a = ",
                 "    std = gain * math.sqrt(1.0 / float(fan_in))\n    a = ", "xavier ignores fan_out"),
        Mutation("fan-swapped", INIT, "    fan_in = shape[1] * receptive_field",
                 "    fan_in = shape[0] * receptive_field", "fan_in read from the output dim"),
        Mutation("gain-tanh", INIT, "        return 5.0 / 3", "        return 1.0", "tanh gain forgotten"),
        Mutation("linear-bias-zero-init", LAYERS, "            init.uniform_(self.bias, -bound, bound)",
                 "            init.zeros_(self.bias)", "bias initialised to zero, not PyTorch's default"),
    ],
    4: [
        Mutation("ce-no-shift", LOSS, "    shifted = x - np.max(x, axis=1, keepdims=True)\n", "    shifted = x\n",
                 "log-softmax without the max shift overflows"),
        Mutation("ce-mean-by-count", LOSS, "                out = np.sum(per_row) / denom",
                 "                out = np.sum(per_row) / m", "mean over all rows, ignored ones included"),
        Mutation("ce-smooth-missing", LOSS, "                per_row -= (smoothing / c) * valid * (logp @ w)",
                 "                pass", "label smoothing ignored"),
        Mutation("ce-ignore-counted", LOSS, "            wt = w[safe_t] * valid  #", "            wt = w[safe_t]  #",
                 "ignored targets still weigh"),
        Mutation("ce-pick-wrong", LOSS, "logp[np.arange(m), safe_t]  # pick", "logp[np.arange(m), 0]  # pick",
                 "picks class 0 instead of the target"),
        Mutation("mse-abs", LOSS, "    loss = diff * diff\n", "    loss = diff.abs()\n", "MSE computed as L1"),
        Mutation("l1-square", LOSS, "    loss = (input - target).abs()\n",
                 "    loss = (input - target) * (input - target)\n", "L1 computed as MSE"),
        Mutation("bce-no-clamp", LOSS, "            log_p = np.maximum(np.log(p), -100.0)",
                 "            log_p = np.log(p)", "BCE without the -100 clamp gives inf"),
        Mutation("bcel-naive", LOSS, "        log1p_e = np.log1p(np.exp(-np.abs(z)))  #",
                 "        log1p_e = np.log1p(np.exp(-z)) - np.maximum(-z, 0)  #", "naive softplus"),
        Mutation("bcel-no-posw", LOSS, "            out = pos_weight * y * softplus_neg",
                 "            out = y * softplus_neg", "pos_weight ignored"),
        Mutation("nll-sign", LOSS, "    losses = -picked * Tensor(coef)", "    losses = picked * Tensor(coef)",
                 "NLL with the wrong sign"),
        Mutation("nll-mean-count", LOSS, "    return losses.sum() / total_weight\n",
                 "    return losses.sum() / len(safe_t)\n", "mean ignores weights and ignore_index"),
    ],
    5: [
        Mutation("sub-backward-sign", OPS, "return grad, -grad", "return grad, grad",
                 "d(a - b)/db = +1"),
        Mutation("mul-backward-swapped", OPS,
                 "ga = grad * b if ctx.needs_input_grad[0] else None",
                 "ga = grad * a if ctx.needs_input_grad[0] else None",
                 "d(a * b)/da taken as a instead of b"),
        Mutation("permute-backward-not-inverted", OPS,
                 "return np.transpose(grad, np.argsort(ctx.dims)), None",
                 "return np.transpose(grad, ctx.dims), None",
                 "permute's gradient applies dims again instead of their inverse"),
        Mutation("unbroadcast-keeps-size1-axes", AUTOGRAD,
                 "axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)",
                 "axes = ()", "un-broadcast forgets axes of size 1"),
        Mutation('div-b-sign', OPS, 'gb = -grad * a / (b * b)',
                 'gb = grad * a / (b * b)'),
        Mutation('pow-off-by-one', OPS, 'ga = grad * b * np.power(a, b - 1)',
                 'ga = grad * b * np.power(a, b)'),
        Mutation('mean-no-count', OPS, 'g = _expand_reduced(grad, ctx.shape, ctx.axis, ctx.keepdim) / ctx.count',
                 'g = _expand_reduced(grad, ctx.shape, ctx.axis, ctx.keepdim)'),
        Mutation('getitem-setitem', OPS, 'np.add.at(out, ctx.index, grad)',
                 'out[ctx.index] += grad'),
        Mutation('where-no-else', OPS, 'return None, np.where(cond, grad, 0), np.where(cond, 0, grad)',
                 'return None, np.where(cond, grad, 0), grad'),
        Mutation('sigmoid-wrong', ACT, 'return grad * s * (1 - s)',
                 'return grad * s * (1 + s)'),
        Mutation('tanh-wrong', ACT, 'return grad * (1 - t * t)',
                 'return grad * (1 - t)'),
        Mutation('unbroadcast-no-lead', AUTOGRAD, '        grad = grad.sum(axis=tuple(range(extra)))',
                 '        grad = grad.sum(axis=0)'),
        Mutation('accumulate-overwrites', AUTOGRAD, 'grads[producer] = ig if prev is None else prev + ig',
                 'grads[producer] = ig'),
        Mutation('leaf-overwrite', AUTOGRAD, '        tensor.grad.data = tensor.grad.data + grad',
                 '        tensor.grad.data = grad'),
        Mutation('max-dim-grad-to-argmax-for-min', OPS, 'idx = np.argmin(a, axis=axis) if smallest else np.argmax(a, axis=axis)',
                 'idx = np.argmax(a, axis=axis) if smallest else np.argmax(a, axis=axis)'),
    ],
    6: [
        Mutation("sgd-buffer-zero-init", OPT, 'buf = state["momentum_buffer"] = g.copy()', 'buf = state["momentum_buffer"] = (1 - group["dampening"]) * g'),
        Mutation("sgd-wd-sign", OPT, "g = g + wd * param  # a new array", "g = g - wd * param  # a new array"),
        Mutation("sgd-nesterov-ignored", OPT, 'g = g + mu * buf if group["nesterov"] else buf', 'g = buf'),
        Mutation("sgd-grad-mutated", OPT, "g = g + wd * param  # a new array", "g += wd * param  # a new array"),
        Mutation("adam-no-bias-correction1", OPT, "step_size = lr / (1 - beta1 ** t)", "step_size = lr"),
        Mutation("adam-eps-inside", OPT, "denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps", "denom = np.sqrt(v / (1 - beta2 ** t) + eps)"),
        Mutation("adamw-coupled", OPT, "param *= 1 - lr * wd  # AdamW", "g = g + wd * param  # AdamW"),
        Mutation("amsgrad-ignored", OPT, '            v = state["max_exp_avg_sq"]\n', '            pass\n'),
        Mutation("rms-centered-ignored", OPT, "denom = np.sqrt(v - a * a) + eps", "denom = np.sqrt(v) + eps"),
        Mutation("rms-momentum-ignored", OPT, "param -= lr * buf", "param -= lr * (g / denom)"),
        Mutation("clip-no-eps", OPT, "coef = min(max_norm / (total + 1e-6), 1.0)", "coef = max_norm / (total + 1e-6)"),
        Mutation("steplr-off-by-one", SCH, "self.gamma ** (self.last_epoch // self.step_size)", "self.gamma ** ((self.last_epoch + 1) // self.step_size)"),
        Mutation("cosine-no-eta", SCH, "return [self.eta_min + (base - self.eta_min) * (1 + cos) / 2 for base in self.base_lrs]\n        # END SOLUTION\n\n\nclass LinearLR", "return [base * (1 + cos) / 2 for base in self.base_lrs]\n        # END SOLUTION\n\n\nclass LinearLR"),
        Mutation("linear-no-clamp", SCH, "t = min(self.total_iters, self.last_epoch)", "t = self.last_epoch"),
        Mutation("warmup-from-zero", SCH, "return [base * (t + 1) / self.warmup_steps for base in self.base_lrs]", "return [base * t / self.warmup_steps for base in self.base_lrs]"),
    ],
    7: [
        Mutation("accum-no-scale", TR, "(loss * (1.0 / group)).backward()", "loss.backward()"),
        Mutation("accum-step-every-batch", TR, "if pending == group:", "if True:"),
        Mutation("eval-grad-on", TR, "            with no_grad():\n                for x, y in loader:", "            if True:\n                for x, y in loader:"),
        Mutation("eval-unweighted", TR, 'totals["loss"] += float(self.loss_fn(output, y).item()) * b', 'totals["loss"] += float(self.loss_fn(output, y).item()) * 4'),
        Mutation("early-stop-max-loss", TR, 'return score < self.best_score if "loss" in monitor else score > self.best_score', 'return score > self.best_score'),
        Mutation("ckpt-keys-as-str", CK, "items.append([_flatten(k, arrays, where)", "items.append([_flatten(str(k), arrays, where)"),
        Mutation("ckpt-tuple-as-list", CK, "return items if t == \"list\" else tuple(items)", "return items"),
        Mutation("ckpt-no-replace", CK, "os.replace(tmp, path)  # atomic", "os.rename(tmp, path + '.new')  # atomic"),
        Mutation("ckpt-no-cleanup", CK, "            os.unlink(tmp)\n", "            pass\n"),
        Mutation("ckpt-float-repr", CK, 'return {"t": "float", "v": obj.hex()}', 'return {"t": "float", "v": float(np.float32(obj)).hex()}'),
    ],
    8: [
        Mutation("batch-drop-last-ignored", DL,
                 "stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)",
                 "stop = len(order)", "drop_last ignored: a short final batch appears"),
        Mutation("batch-len-floor", DL,
                 "return n // self.batch_size if self.drop_last else -(-n // self.batch_size)  # ceil",
                 "return n // self.batch_size", "len(loader) forgets the partial last batch"),
        Mutation("shuffle-with-repeats", DL,
                 "perms = [rng.permutation(n) for _ in range(rounds)]",
                 "perms = [rng.integers(0, n, size=n) for _ in range(rounds)]",
                 "shuffling by drawing with replacement: samples repeat and others vanish"),
        Mutation("collate-ints-as-float", DL,
                 "        return Tensor(np.array(batch, dtype=np.int64))",
                 "        return Tensor(np.array(batch, dtype=np.float32))",
                 "labels collated as floats"),
        Mutation("batch-off-by-one", DL,
                 "            yield order[start:start + self.batch_size].tolist()",
                 "            yield order[start:start + self.batch_size - 1].tolist()",
                 "each batch one sample short"),
    ],
    9: [
        Mutation("naive-conv-no-dilation", CONV, "xp[n, g * cg + c, y * sh + i * dh,",
                 "xp[n, g * cg + c, y * sh + i,", "explicit-loop conv ignores dilation"),
        Mutation("col2im-overwrites", IM2COL, "            dxw[tuple(where[a] for a in order)] += d[:, i, j]",
                 "            dxw[tuple(where[a] for a in order)] = d[:, i, j]",
                 "col2im overwrites instead of adding overlapping windows"),
        Mutation("maxpool-naive-no-stride", POOL,
                 "out[n, ch, y, xx] = np.max(xp[n, ch, y * sh:y * sh + kh, xx * sw:xx * sw + kw])",
                 "out[n, ch, y, xx] = np.max(xp[n, ch, y:y + kh, xx:xx + kw])",
                 "pooling windows ignore the stride"),
        Mutation("dropout2d-per-element", DROPOUT2D, "mask_shape = input.shape[:-2] + (1, 1)",
                 "mask_shape = input.shape", "Dropout2d drops single pixels, not whole channels"),
        Mutation("bn-running-var-biased", BN,
                 "unbiased = var.reshape(c) * (count / (count - 1))", "unbiased = var.reshape(c)",
                 "running variance updated with the biased batch variance"),
        Mutation("bn-no-eps", BN, "invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)",
                 "invstd = (1.0 / np.sqrt(var)).astype(x.dtype, copy=False)", "eps forgotten"),
        Mutation("bn-momentum-flipped", BN,
                 "running_mean.data[...] = ((1 - momentum) * running_mean.data\n                                      + momentum * mean.reshape(c))",
                 "running_mean.data[...] = (momentum * running_mean.data\n                                      + (1 - momentum) * mean.reshape(c))",
                 "momentum applied to the old statistic instead of the new one"),
    ],
}
