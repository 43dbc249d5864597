"""The browser workspace: pages, sign-in sessions and page images (issue 12)."""
