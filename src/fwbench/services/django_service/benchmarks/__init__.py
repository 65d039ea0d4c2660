"""The six TechEmpower test types (plain Django views, like TechEmpower's own Django entry),
the I/O-bound ``/io`` endpoint and the ``seed`` management command."""
