"""Pure operations on arrays (verbs): the stages in ``pipeline.stages`` call these."""
