import DrizzleCore

/// What a text setting (or each element of a list setting) must look like, beyond being a string.
enum TextRule: Sendable, Equatable {
    /// Anything, including empty.
    case any
    /// Anything but empty.
    case nonEmpty
    /// `host:port` with a port in 1...65535 (`HostPort`: IPv6 in brackets).
    case hostPort
    /// Empty, or `host:port` with a port in 1...65535.
    case hostPortOrEmpty
    /// Exactly this many hexadecimal digits.
    case hexDigits(Int)

    /// Why `text` breaks the rule, or nil if it does not.
    func violation(of text: String) -> String? {
        switch self {
        case .any:
            return nil
        case .nonEmpty:
            return text.isEmpty ? "must not be empty" : nil
        case .hostPortOrEmpty:
            return text.isEmpty ? nil : TextRule.hostPort.violation(of: text)
        case .hostPort:
            guard (try? HostPort(parsing: text, ports: 1...65535)) != nil else {
                return "must be host:port with a port in 1...65535, found \"\(text)\""
            }
            return nil
        case .hexDigits(let count):
            guard text.count == count, text.allSatisfy(\.isHexDigit) else {
                return "must be \(count) hexadecimal digits, found \"\(text)\""
            }
            return nil
        }
    }
}

/// Walks every setting of a ``DrizzleConfiguration`` with its key and rule. The list of settings
/// lives in one place, ``DrizzleConfiguration/visitSettings(_:)``; loading, the key catalog and the
/// tests are all visitors.
protocol SettingVisitor {
    associatedtype Failure: Error
    mutating func visit(_ key: String, _ value: inout Int, in bounds: ClosedRange<Int>) throws(Failure)
    mutating func visit(_ key: String, _ value: inout String, _ rule: TextRule) throws(Failure)
    mutating func visit(_ key: String, _ value: inout [String], each rule: TextRule) throws(Failure)
    mutating func visit(_ key: String, _ value: inout Bool) throws(Failure)
    mutating func visit<Choice: RawRepresentable & CaseIterable>(
        _ key: String,
        _ value: inout Choice
    ) throws(Failure) where Choice.RawValue == String
}

/// `lower...Int.max`.
private func atLeast(_ lower: Int) -> ClosedRange<Int> { lower...Int.max }

/// Upper bounds that keep durations and products computed from settings (nanoseconds, transmit
/// limits, suspicion timeouts) far from overflowing `Int`.
private let oneDay = 86_400_000

extension DrizzleConfiguration {
    /// Presents every setting to `visitor`, in the order of `config/default.yaml`. Adding a setting
    /// means adding a line here, a field, a default and a line in the shipped file and the docs.
    mutating func visitSettings<Visitor: SettingVisitor>(_ visitor: inout Visitor) throws(Visitor.Failure) {
        try visitor.visit("node.host", &node.host, .nonEmpty)
        try visitor.visit("node.peer_base_port", &node.peerBasePort, in: 1...65535)
        try visitor.visit("node.advertise", &node.advertise, .hostPortOrEmpty)

        try visitor.visit("net.size", &net.size, in: 1...65535)
        try visitor.visit("net.seeds", &net.seeds, each: .hostPort)
        try visitor.visit("net.scan_hosts", &net.scanHosts, each: .nonEmpty)

        try visitor.visit("data.file", &data.file, .nonEmpty)
        try visitor.visit("data.piece_size", &data.pieceSize, in: 1...DrizzleConfiguration.maximumPieceSize)
        try visitor.visit("data.test_key", &data.testKey, .hexDigits(32))
        try visitor.visit("data.replicas", &data.replicas, in: atLeast(1))
        try visitor.visit("data.dir", &data.directory, .nonEmpty)
        try visitor.visit("data.store", &data.store)

        try visitor.visit("keys.dir", &keys.directory, .nonEmpty)
        try visitor.visit("keys.replay_window", &keys.replayWindow, in: 1...1_048_576)

        try visitor.visit("gossip.interval_ms", &gossip.intervalMilliseconds, in: 1...oneDay)
        try visitor.visit("gossip.fanout", &gossip.fanout, in: atLeast(1))
        try visitor.visit("gossip.max_datagram_bytes", &gossip.maxDatagramBytes, in: 256...65507)
        try visitor.visit("gossip.variant", &gossip.variant)
        try visitor.visit("gossip.k", &gossip.k, in: atLeast(1))
        try visitor.visit("gossip.mode", &gossip.mode)
        try visitor.visit("gossip.transmit_limit", &gossip.transmitLimit)
        try visitor.visit("gossip.retransmit_mult", &gossip.retransmitMultiplier, in: 1...1000)
        try visitor.visit("gossip.anti_entropy_interval_ms", &gossip.antiEntropyIntervalMilliseconds, in: 1...oneDay)

        try visitor.visit("membership.probe_interval_ms", &membership.probeIntervalMilliseconds, in: 1...oneDay)
        try visitor.visit("membership.probe_timeout_ms", &membership.probeTimeoutMilliseconds, in: 1...oneDay)
        try visitor.visit("membership.indirect_checks", &membership.indirectChecks, in: atLeast(0))
        try visitor.visit("membership.suspicion_mult", &membership.suspicionMultiplier, in: 1...1000)
        try visitor.visit("membership.dead_reap_ms", &membership.deadReapMilliseconds, in: 1...oneDay)
        try visitor.visit("membership.lifeguard", &membership.lifeguard)

        try visitor.visit("size.algorithm", &size.algorithm)
        try visitor.visit("size.epoch_cycles", &size.epochCycles, in: 1...1_000_000)
        try visitor.visit("size.instances", &size.instances, in: 1...1000)

        try visitor.visit("clock.offset_ms", &clock.offsetMilliseconds, in: -oneDay...oneDay)
        try visitor.visit("clock.drift_ppm", &clock.driftPPM, in: -1_000_000...1_000_000)
        try visitor.visit("clock.sync", &clock.sync)
        try visitor.visit("clock.reference", &clock.reference, .any)

        try visitor.visit("metrics.listen", &metrics.listen, .hostPortOrEmpty)
    }
}

/// One setting as the catalog lists it.
struct Setting: Sendable, Equatable {
    /// The kind of value a setting takes.
    enum Kind: Sendable, Equatable {
        case integer(ClosedRange<Int>)
        case text(TextRule)
        case list(TextRule)
        case boolean
        case choice([String])
    }

    /// The dotted key, as in the file: `gossip.interval_ms`.
    var key: String
    var kind: Kind

    /// The environment variable that sets this key: `DRIZZLE_GOSSIP_INTERVAL_MS`. This is what
    /// `EnvironmentVariablesProvider` looks up for the key prefixed with `drizzle`.
    var environmentVariable: String {
        "DRIZZLE_" + key.uppercased().replacing(".", with: "_")
    }

    /// The flag that sets this key: `--gossip-interval-ms`. This is what `CommandLineArgumentsProvider`
    /// looks up once the loader has turned the key's underscores into dashes.
    var flag: String {
        "--" + key.replacing(".", with: "-").replacing("_", with: "-")
    }

    /// The section a key belongs to: `gossip` for `gossip.interval_ms`.
    var section: String {
        String(key.prefix { $0 != "." })
    }

    /// Every setting, in file order.
    static let all: [Setting] = {
        var catalog = SettingCatalog()
        var configuration = DrizzleConfiguration.defaults
        configuration.visitSettings(&catalog)
        return catalog.settings
    }()

    /// The settings by key.
    static let byKey: [String: Setting] = Dictionary(all.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })

    /// The settings by flag name.
    static let byFlag: [String: Setting] = Dictionary(
        all.map { ($0.flag, $0) },
        uniquingKeysWith: { first, _ in first }
    )

    /// The section names, such as `node` and `gossip`.
    static let sections: Set<String> = Set(all.map(\.section))

    /// Keys of earlier versions that are settings no more, with what replaced them: a file that
    /// still has one gets a line saying so instead of "unknown key".
    static let removed: [String: String] = [
        "node.local_base_port":
            "the original's local (control) listener is each node's Unix socket <data.dir>/<name>.sock, which drizzle attach opens"
    ]
}

/// Lists the settings without touching their values.
private struct SettingCatalog: SettingVisitor {
    typealias Failure = Never
    var settings: [Setting] = []

    mutating func visit(_ key: String, _ value: inout Int, in bounds: ClosedRange<Int>) {
        settings.append(Setting(key: key, kind: .integer(bounds)))
    }

    mutating func visit(_ key: String, _ value: inout String, _ rule: TextRule) {
        settings.append(Setting(key: key, kind: .text(rule)))
    }

    mutating func visit(_ key: String, _ value: inout [String], each rule: TextRule) {
        settings.append(Setting(key: key, kind: .list(rule)))
    }

    mutating func visit(_ key: String, _ value: inout Bool) {
        settings.append(Setting(key: key, kind: .boolean))
    }

    mutating func visit<Choice: RawRepresentable & CaseIterable>(_ key: String, _ value: inout Choice)
    where Choice.RawValue == String {
        settings.append(Setting(key: key, kind: .choice(Choice.allCases.map(\.rawValue))))
    }
}
