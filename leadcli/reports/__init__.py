"""Reports: pipeline, funnel, sources, velocity, response, lost, cohorts, ratings, spend."""
