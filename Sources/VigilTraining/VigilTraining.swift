// The retraining library; see docs/retraining.md.
