"""The run below the command line: where a pipeline's run writes, its state, and the run itself.

``run``, ``status`` and ``assemble`` open a session on the pipeline's state (:mod:`.session`);
``review`` opens none: it reads the manifest its :mod:`.workspace` names.

The modules are imported one by one (this package re-exports nothing), so ``rdpipe status``
loads no scheduler and a cached rerun no HTTP client:

- :mod:`.workspace`: where one pipeline's run writes (outputs, clips, state); ``review`` uses
  only this, to find the manifest it reads;
- :mod:`.settings`: what the user asked of a run, each default stated once;
- :mod:`.session`: :func:`~.session.open_session`, the guard, the state, the clips and the plan
  held for one command (``run``, ``assemble``; ``status`` through :func:`~.session.read_plan`);
- :mod:`.running`: :func:`~.running.run_pipeline`, a run end to end;
- :mod:`.summary`: :class:`~.summary.RunSummary`, what a run returns;
- :mod:`.records`: the manifest and the lock file, as a run writes them (:mod:`.manifest`
  builds the manifest document);
- :mod:`.assembly`: the storyboard video from the picked takes;
- :mod:`.rebuild`: :func:`~.rebuild.rebuild_video`, ``assemble``'s work (damaged clips
  downloaded again, then the video);
- :mod:`.connections`: the RelayDance client or the offline simulator, and the webhook receiver
  (:mod:`.webhooks`);
- :mod:`.events`: what a run tells its user, and the reporter that receives it.
"""
