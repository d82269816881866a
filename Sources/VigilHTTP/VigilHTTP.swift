// The operational HTTP endpoints on Hummingbird (being moved here from VigilService/HTTPEndpoint.swift).
