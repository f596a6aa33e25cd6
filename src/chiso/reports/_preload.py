"""Imported by the fork server of :mod:`chiso.reports.workers`: the rendering libraries, loaded once."""

from chiso.reports.workers import preload

preload()
