"""The three implementations of the contract, and the downstream service they call.

Each sub-package is readable on its own and imports nothing from its siblings."""
