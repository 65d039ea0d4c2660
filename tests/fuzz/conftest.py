"""The fuzz tests run against the contract suite's services: same fixtures, same targets
(three implementations x SQLite and PostgreSQL), started the same way."""

from tests.contract.conftest import downstream, pool, service, target

__all__ = ["downstream", "pool", "service", "target"]
