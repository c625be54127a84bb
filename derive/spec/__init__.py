"""The network specification: the network, the rule tables of activations and losses, custom activations. Data only."""
