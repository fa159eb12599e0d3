"""Markets: pure mechanisms that take the agents' decisions and return fills, rates and fails."""
