"""The feature store: a declared contract, feature blocks, and quality scoring."""
