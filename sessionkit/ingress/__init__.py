"""Cookie-affinity configuration for apps that cannot move their state out of the process yet."""
