"""Kafka plumbing: the project's own local broker, its topics, and factories for configured aiokafka clients.

Nothing here is imported by the functional core. ``broker`` runs a real Apache Kafka (KRaft, loopback) from
jars fetched by Maven (``jars``) with a configuration rendered from ``deploy/kafka`` (``broker_config``);
``topics`` declares and creates the project's topics; ``clients`` builds producers, consumers and admin
clients from ``streams.settings.Settings`` so every caller gets the same security settings and throughput
defaults.
"""
