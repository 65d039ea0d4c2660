"""``fwbench claims``: the article's claims as experiments, each ending in a verdict.

* :mod:`.model`: the :class:`~.model.Experiment` base class, :class:`~.model.Verdict`
  and :class:`~.model.Outcome` (supported, contradicted, depends on configuration).
* :mod:`.verdicts`: the written rules, pure functions of recorded numbers.
* one module per experiment (:mod:`.blocking_async`, :mod:`.thread_pools`,
  :mod:`.io_ratio`, :mod:`.httpx_tip`, :mod:`.memory`, :mod:`.cold_start`,
  :mod:`.unbounded_reads`, :mod:`.n_plus_one`, :mod:`.footprint`, :mod:`.article_table`),
  listed in run order by :mod:`.registry`;
* :mod:`.runner` runs them in a :class:`~.context.Context` and records the results;
  :mod:`.render` prints them;
* the measurements they share: :mod:`._measure` (wrk figures, memory, the io sweep),
  :mod:`._sessions` (io sessions), measured through :mod:`._running` (a service here or,
  with ``--hosts``, on the service host by :mod:`._hosts`, which also runs the experiments
  that read the service's own processes whole on that host).
"""
