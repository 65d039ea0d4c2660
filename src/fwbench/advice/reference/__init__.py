"""Reference results shipped with fwbench: ``*.json`` results files written by
``fwbench run`` (and ``fwbench claims``) on a described machine, which ``fwbench advise``
uses when the user has no results of their own. Add one by copying a complete results
file here; ``advise`` names the file and its machine whenever it uses it."""
