"""What tests, benchmarks and chaos runs share: tools around the real components, never production code."""
