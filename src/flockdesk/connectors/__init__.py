"""Platform connectors: the capability Protocols every caller depends on (`base`), the registry that
maps a platform name to its rules and its client (`registry`), and one package per platform. Nothing
outside this package imports a platform package."""
