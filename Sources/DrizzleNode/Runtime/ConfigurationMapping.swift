public import DrizzleConfig
public import DrizzleCore

extension DrizzleConfiguration {
    /// The failure detector's settings as the core takes them.
    public var membershipConfiguration: MembershipConfiguration {
        var settings = MembershipConfiguration()
        settings.probeIntervalNanoseconds = Int64(membership.probeIntervalMilliseconds) * 1_000_000
        settings.probeTimeoutNanoseconds = Int64(membership.probeTimeoutMilliseconds) * 1_000_000
        settings.indirectChecks = membership.indirectChecks
        settings.suspicionMultiplier = membership.suspicionMultiplier
        settings.reapNanoseconds = Int64(membership.deadReapMilliseconds) * 1_000_000
        settings.lifeguard = membership.lifeguard
        settings.retransmitMultiplier = gossip.retransmitMultiplier
        return settings
    }
}

extension DrizzleConfiguration {
    /// Size estimation settings as the core takes them (every node of a cluster must agree).
    public var sizeSettings: SizeSettings {
        SizeSettings(epochCycles: size.epochCycles, instances: size.instances)
    }

    /// True when the configured algorithm is push-sum.
    public var usesPushSum: Bool { size.algorithm == .pushSum }
}

extension DrizzleConfiguration {
    /// The ring's settings: the successor list holds `data.replicas` nodes.
    public var ringConfiguration: RingConfiguration {
        RingConfiguration(successorCount: data.replicas)
    }
}
