"""Tests that run the pages in headless Chromium, with scorm-again as the LMS."""
