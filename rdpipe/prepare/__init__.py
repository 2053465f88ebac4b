"""Everything before the network: a pipeline file loaded, rendered and checked.

``pipeline.prepare_pipeline`` is what ``validate``, ``plan``, ``status`` and ``run`` share. The
rules it applies each have a module: ``checks`` (per-shot request rules), ``media_checks`` (how
references are sent, local video and audio per shot), ``text_checks`` (captions and cards
against the fonts), ``timeline_checks``, ``music_checks``; ``media``, ``images`` and
``av_files`` (video and audio, read with PyAV) turn local files into what a request carries.
Import the module you need: this package imports nothing, so a command pays only for the rules
it runs.
"""
