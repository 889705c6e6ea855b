"""`backcheck evaluate`: the analysis scored on the labelled clips (../shared/data/clips.csv).

One package, split by concept:

- `labels`: clips.csv rows, label classes and each clip's source (the repository it came
  from);
- `tracks`: pose tracks cached per (clip, transform, model), so a re-run after a rule
  change only re-runs the rules;
- `hinge`, `plank`: each clip's analysis against its labels, and their tables;
- `invariance`: the verdict of a clip against the verdicts of its transformed copies
  (`vision.transforms`);
- `loso`: leave-one-source-out thresholds, margins and "couldn't judge" counts;
- `command`: the command itself, its summary checks and the markdown it writes.
"""
