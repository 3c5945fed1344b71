"""Exercises: a learner writes the backward passes (and the loops, the kernels, the optimizers' updates), the
library grades them.

    tinygrad-cg exercises start mywork          # a copy of the library with the exercises blank
    tinygrad-cg exercises status --dir mywork   # done / failing / not started
    tinygrad-cg exercises check 1.3 --dir mywork
    tinygrad-cg exercises hint 1.3 --dir mywork

The library is the reference solution: the workspace is made from its source by ``workspace.start`` (``ast``
blanks the functions the catalogue names), so the exercises cannot drift from the code, and the library's files
carry no solution markers. ``catalogue`` lists the exercises in the lectures' order, with their hints;
``grader`` checks each against the library's own code and says what is wrong in a learner's words.
"""

from .catalogue import EXERCISES, TRACKS, Exercise, get
from .workspace import WorkspaceError, next_hint, start

__all__ = ["EXERCISES", "TRACKS", "Exercise", "WorkspaceError", "get", "next_hint", "start"]
