# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Your first exercise: Square.backward
#
# Reading a backward pass is one thing; writing it is another. `tinygrad-cg exercises start mywork` makes a
# workspace: a copy of the library, `mywork/mygrad/`, in which the exercises' function bodies are blank. Here we
# do the first steps of exercise 1.3 from Python (in a terminal you would run the commands in the comments and
# edit the file in your editor).

# %%
import tempfile
from pathlib import Path

from tinygrad_cg import exercises
from tinygrad_cg.exercises import grader, workspace

work = Path(tempfile.mkdtemp()) / "mywork"
chosen = exercises.start(work, track="graph")        # tinygrad-cg exercises start mywork --track graph
print([e.id for e in chosen])
for verdict in grader.status(work):                  # tinygrad-cg exercises status
    print(verdict.exercise, verdict.status, "-", verdict.message)

# %% [markdown]
# ## What you get
#
# `Square.backward` in `mywork/mygrad/layers/arithmetic.py` kept its docstring, which states the rule, and lost
# its body:

# %%
source = (work / "mygrad" / "layers" / "arithmetic.py").read_text()
start = source.index("class Square")
print(source[start:source.index("class MatMul")])

# %% [markdown]
# ## A first try, with a classic mistake
#
# The rule is $\delta_x \mathrel{+}= 2 x \, \delta$. A first try often *assigns* the delta instead of adding
# into it. We write that into the file (this is what saving it in an editor does) and grade it:

# %%
def write_square_backward(body: str) -> None:
    path = work / "mygrad" / "layers" / "arithmetic.py"
    path.write_text(workspace.replace_body(path.read_text(), "Square.backward", body))


write_square_backward("x = self.inputs[0]\nx.delta = 2 * x.output * self.delta")
verdict = grader.grade("1.3", work)                  # tinygrad-cg exercises check 1.3
print(verdict.status, "-", verdict.message)
assert "assigned (=) instead of adding (+=)" in verdict.message

# %% [markdown]
# Why it matters: a layer read by two consumers gets a delta from each, and `=` would keep only the last. The
# grader fills every input's delta with random numbers before calling your `backward`, so the mistake shows
# even in a graph where nothing is shared.
#
# Stuck? Hints come one rung at a time: the formula, then the shapes, then the NumPy idiom.

# %%
for _ in range(2):
    number, total, text = workspace.next_hint(work, "1.3")   # tinygrad-cg exercises hint 1.3
    print(f"hint {number} of {total}: {text}")

# %% [markdown]
# ## The fix

# %%
write_square_backward("x = self.inputs[0]\nif x.needs_delta:\n    x.delta += 2 * x.output * self.delta")
verdict = grader.grade("1.3", work)
print(verdict.status, "-", verdict.message)
assert verdict.status == "done"

# %% [markdown]
# Your `Square` now agrees with the library on an array and on a 0-d scalar, and with finite differences of its
# own forward pass. Next: `Multiply.backward` (1.1; mind the lecture's scalar `w` times an array `x`) and
# `Subtract.backward` (1.2), then the backward loop itself (2.2) once the topological sort (2.1) is yours. When
# all of them are done, your own `mygrad` runs the lecture's graph end to end. `pytest -m ex_1_3` inside the
# workspace runs the same check as a test.
