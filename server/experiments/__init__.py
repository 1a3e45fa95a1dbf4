"""A/B tests of tip wording: experiments, assignment, exposures and outcome events, reports."""
