"""The stages' library entry points: one ``run(...)`` per DVC stage that reads its inputs, calls
the stage's library, writes the declared outs and metrics and returns the metrics.

``stages/<name>.py`` (the scripts ``dvc.yaml`` runs) hand their argv to
:func:`termcorpus.runtime.run_stage`, which loads the params sections a ``run`` takes and calls
it once. Orchestration (the validity gate after execute, LLM synthesis after generation, dvclive
wiring) lives here, not in the scripts; tests can call ``run`` directly.
"""
