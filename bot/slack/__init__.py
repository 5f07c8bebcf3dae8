"""The Slack edge: payloads in, Block Kit and Web API calls out."""
