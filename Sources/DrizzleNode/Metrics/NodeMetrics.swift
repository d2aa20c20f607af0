import DrizzleCore
import Prometheus

/// A node's Prometheus metrics: members by state, datagrams and bytes in and out, envelopes
/// dropped by reason, the depth of the rumor and membership-update queues, the bus's counters and
/// the clock estimate.
public final class NodeMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let members: [MemberState: Gauge]
    private let drops: [DropReason: Gauge]
    private let datagramsIn: Gauge
    private let datagramsOut: Gauge
    private let bytesIn: Gauge
    private let bytesOut: Gauge
    private let rumorQueue: Gauge
    private let updateQueue: Gauge
    private let impairedDrops: Gauge
    private let events: [String: Gauge]
    private let clockOffset: Gauge
    private let clockSkew: Gauge
    private let certificateExpiry: Gauge
    private let peerCertificateExpiry: Gauge
    private let revocationVersion: Gauge
    private let authorities: Gauge

    public init(node: String) {
        let labels = [("node", node)]
        let registry = self.registry
        members = Dictionary(
            uniqueKeysWithValues: [MemberState.alive, .suspect, .dead, .left].map { state in
                (
                    state,
                    Self.gauge(
                        in: registry, "members", "Members in this node's view by state (itself counted as alive)",
                        labels: labels + [("state", state.description)])
                )
            })
        drops = Dictionary(
            uniqueKeysWithValues: DropReason.allCases.map { reason in
                (
                    reason,
                    Self.gauge(
                        in: registry, "dropped_envelopes", "Envelopes dropped since start, by reason",
                        labels: labels + [("reason", reason.rawValue)])
                )
            })
        datagramsIn = Self.gauge(in: registry, "envelopes_received", "Envelopes received (UDP and TCP)", labels: labels)
        datagramsOut = Self.gauge(in: registry, "envelopes_sent", "Envelopes sent (UDP and TCP)", labels: labels)
        bytesIn = Self.gauge(in: registry, "bytes_received", "Bytes received", labels: labels)
        bytesOut = Self.gauge(in: registry, "bytes_sent", "Bytes sent", labels: labels)
        rumorQueue = Self.gauge(in: registry, "rumor_queue_depth", "Rumors still being spread (hot)", labels: labels)
        updateQueue = Self.gauge(in: registry, "membership_queue_depth", "Membership updates waiting to be piggybacked", labels: labels)
        impairedDrops = Self.gauge(in: registry, "impairment_drops", "Datagrams dropped on purpose by the test impairment stage", labels: labels)
        events = Dictionary(
            uniqueKeysWithValues: ["delivered", "pending", "late", "duplicate"].map { kind in
                (kind, Self.gauge(in: registry, "bus_events", "Bus events by fate: delivered, pending (not yet stable), late, duplicate", labels: labels + [("kind", kind)]))
            })
        clockOffset = Self.gauge(
            in: registry, "clock_offset_seconds", "The cluster's time minus this node's synchronised time, estimated", labels: labels)
        clockSkew = Self.gauge(
            in: registry, "clock_skew_seconds", "Largest difference among this node's and recently sampled members' clocks", labels: labels)
        certificateExpiry = Self.gauge(
            in: registry, "certificate_expiry_seconds", "Seconds until this node's certificate expires (negative: expired)",
            labels: labels)
        peerCertificateExpiry = Self.gauge(
            in: registry, "peer_certificate_expiry_seconds",
            "Seconds until the soonest-expiring admitted peer certificate expires (0 when none is admitted)", labels: labels)
        revocationVersion = Self.gauge(
            in: registry, "revocation_list_version", "Version of the revocation list this node holds (0: none)", labels: labels)
        authorities = Self.gauge(in: registry, "trusted_authorities", "CAs in this node's trust bundle", labels: labels)
    }

    /// What the node reports each second.
    public struct Snapshot: Sendable {
        var members: [Member]
        var drops: DropCounters
        var envelopesIn: Int
        var envelopesOut: Int
        var bytesIn: Int
        var bytesOut: Int
        var hotRumors: Int
        var pendingUpdates: Int
        var impairedDrops: Int
        var bus: EventOrder
        var clock: ClockEstimate
        /// Seconds until expiry: this node's certificate, and the soonest admitted peer's.
        var certificateExpiresIn: Int64
        var peerCertificateExpiresIn: Int64?
        var revocationVersion: UInt64
        var authorities: Int
    }

    func record(_ snapshot: Snapshot) {
        var counts: [MemberState: Int] = [.alive: 1]
        for member in snapshot.members { counts[member.state, default: 0] += 1 }
        for (state, gauge) in members { gauge.set(Double(counts[state, default: 0])) }
        for (reason, gauge) in drops { gauge.set(Double(snapshot.drops[reason])) }
        datagramsIn.set(Double(snapshot.envelopesIn))
        datagramsOut.set(Double(snapshot.envelopesOut))
        bytesIn.set(Double(snapshot.bytesIn))
        bytesOut.set(Double(snapshot.bytesOut))
        rumorQueue.set(Double(snapshot.hotRumors))
        updateQueue.set(Double(snapshot.pendingUpdates))
        impairedDrops.set(Double(snapshot.impairedDrops))
        events["delivered"]?.set(Double(snapshot.bus.deliveredCount))
        events["pending"]?.set(Double(snapshot.bus.pendingCount))
        events["late"]?.set(Double(snapshot.bus.late))
        events["duplicate"]?.set(Double(snapshot.bus.duplicates))
        clockOffset.set(Double(snapshot.clock.offsetNanoseconds) / 1e9)
        clockSkew.set(Double(snapshot.clock.skewNanoseconds) / 1e9)
        certificateExpiry.set(Double(snapshot.certificateExpiresIn))
        peerCertificateExpiry.set(Double(snapshot.peerCertificateExpiresIn ?? 0))
        revocationVersion.set(Double(snapshot.revocationVersion))
        authorities.set(Double(snapshot.authorities))
    }

    private static func gauge(
        in registry: PrometheusCollectorRegistry, _ name: String, _ help: String, labels: [(String, String)]
    ) -> Gauge {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "drizzle", metricName: name, unitName: "", helpText: help),
            labels: labels)
    }

    /// The Prometheus text exposition.
    public func exposition() -> String { registry.emitToString() }
}
