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
    /// Rumor mongering as the core takes it: `gossip.variant`, `k`, `mode`, `fanout` and the
    /// transmit limit with its multiplier. A rumor is sent at least two rounds' worth of times
    /// (2 × fanout) before feedback may cool it: events are pushed eagerly, so feedback alone cooled
    /// them after one round, and about one event in 20 reached the last of 32 nodes only by pull
    /// repair, seconds later. `NodeCore`'s default policy, which the simulator's nodes use, has the
    /// same minimum (docs/experiments.md, Chaos: over 40 seeds it did not raise false deaths).
    public var rumorPolicy: RumorPolicy {
        let (feedback, stop): (RumorPolicy.Feedback, RumorPolicy.Stop) =
            switch gossip.variant {
            case .feedbackCounter: (.feedback, .counter)
            case .blindCounter: (.blind, .counter)
            case .feedbackCoin: (.feedback, .coin)
            case .blindCoin: (.blind, .coin)
            }
        let mode: RumorPolicy.Mode =
            switch gossip.mode {
            case .push: .push
            case .pull: .pull
            case .pushPull: .pushPull
            }
        let limit: TransmitLimit =
            switch gossip.transmitLimit {
            case .memberlist: .memberlist(multiplier: gossip.retransmitMultiplier)
            case .log2: .log2(multiplier: gossip.retransmitMultiplier)
            }
        return RumorPolicy(
            feedback: feedback, stop: stop, k: gossip.k, mode: mode, fanout: gossip.fanout, transmitLimit: limit,
            minimumTransmits: 2 * gossip.fanout)
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
        // SWIM reports joins and deaths to the ring at once (and any change brings both back to
        // full rate), so on a quiet ring stabilization and finger refreshes back off to 30 s, as
        // memberlist's push-pull, instead of costing a TCP request every half second: doubling
        // every 2 quiet rounds and 4 unchanged fingers, they get there about a minute after the
        // last change (docs/PERFORMANCE.md, "Idle traffic").
        RingConfiguration(
            successorCount: data.replicas, stabilizeMaximumIntervalNanoseconds: 30_000_000_000, stabilizeQuietRounds: 2,
            fixFingerMaximumIntervalNanoseconds: 30_000_000_000, fixFingerQuietRefreshes: 4)
    }
}

extension DrizzleConfiguration {
    /// The clock of the node called `name`: the configured artificial offset and drift.
    public var clockModel: ClockModel {
        ClockModel(offsetNanoseconds: Int64(clock.offsetMilliseconds) * 1_000_000, driftPPM: Double(clock.driftPPM))
    }

    /// How the node called `name` synchronises: the configured mode; it is the reference when
    /// `clock.reference` names it.
    public func clockSyncConfiguration(for name: String) -> ClockSync.Configuration {
        let mode: ClockSync.Mode
        switch clock.sync {
        case .average: mode = .average
        case .reference: mode = .reference
        case .off: mode = .off
        }
        return ClockSync.Configuration(mode: mode, isReference: !clock.reference.isEmpty && clock.reference == name)
    }
}

extension NodeOptions {
    /// The options of the node called `name` on `bindHost:bindPort`, everything else from the
    /// configuration (the prompt's nodes and `drizzle agent` share this).
    public init(configuration: DrizzleConfiguration, name: String, bindHost: String, bindPort: Int, seeds: [String]) {
        self.init(
            name: name, bindHost: bindHost, bindPort: bindPort,
            advertise: configuration.node.advertise.isEmpty ? nil : configuration.node.advertise, seeds: seeds,
            keysDirectory: configuration.keys.directory, dataDirectory: configuration.data.directory,
            store: configuration.data.store,
            membership: configuration.membershipConfiguration, rumorPolicy: configuration.rumorPolicy,
            gossipIntervalMilliseconds: configuration.gossip.intervalMilliseconds,
            antiEntropyIntervalMilliseconds: configuration.gossip.antiEntropyIntervalMilliseconds,
            datagramLimit: configuration.gossip.maxDatagramBytes,
            replayWindow: configuration.keys.replayWindow, size: configuration.sizeSettings,
            pushSum: configuration.usesPushSum,
            sizeCycleMilliseconds: configuration.membership.probeIntervalMilliseconds,
            ring: configuration.ringConfiguration, clock: configuration.clockModel,
            clockSync: configuration.clockSyncConfiguration(for: name))
    }
}
