"""The LTI 1.3 tool: cards launched from Canvas and Moodle, graded on the server.

One module per concern, so each can be read (and tested) alone:

- :mod:`~lms_export.lti.store`: the SQLite database every worker shares
  (platforms, deployments, keys, states, nonces, launches, attempts, outbox);
- :mod:`~lms_export.lti.keys`: the tool's RSA keys and its JWKS;
- :mod:`~lms_export.lti.security`: the launch checks, on top of pylti1p3;
- :mod:`~lms_export.lti.ags`: access tokens, line items and scores;
- :mod:`~lms_export.lti.outbox`: the worker that delivers every grade exactly once;
- :mod:`~lms_export.lti.catalog`: the decks served, found by card id;
- :mod:`~lms_export.lti.grading`: answers read from the card page and scored;
- :mod:`~lms_export.lti.deeplink`: the card picker's response to the platform;
- :mod:`~lms_export.lti.registration`: LTI Dynamic Registration 1.0;
- :mod:`~lms_export.lti.config`: platform presets and the Canvas developer key JSON;
- :mod:`~lms_export.lti.app`: the Flask application; :mod:`~lms_export.lti.server`: gunicorn;
- :mod:`~lms_export.lti.commands`: ``lms-export serve`` and ``lms-export lti``.

The tool depends on the model, scoring, render and page modules; nothing
outside this package imports it, except the CLI, lazily.
"""
