import DrizzleConfig
import DrizzleCore
import DrizzleNode

/// Every `host:port` that `drizzle agent` takes — `--bind`, `--advertise`, `--join`, `--metrics`,
/// or the settings they default to — parsed and checked before anything starts, so a typo is one
/// line naming its flag instead of a node that starts and then fails (or never joins).
struct AgentAddresses {
    var bind: HostPort
    /// What peers should use; nil: the bind address.
    var advertise: String?
    var seeds: [String]
    /// Where to serve metrics; nil: off.
    var metrics: HostPort?

    /// The addresses from the flags, else from `configuration`; one error line for the first that
    /// is unusable, named by the flag (or the setting) it came from.
    static func check(
        bind: String?, advertise: String?, join: String?, metrics: String?, configuration: DrizzleConfiguration
    ) throws -> AgentAddresses {
        let bindAddress =
            try bind.map { try parse($0, from: "--bind") }
            ?? HostPort(host: configuration.node.host, port: configuration.node.peerBasePort)
        let advertised = advertise ?? (configuration.node.advertise.isEmpty ? nil : configuration.node.advertise)
        if let advertised {
            try peer(advertised, from: advertise == nil ? "node.advertise" : "--advertise")
        }
        let seeds =
            join.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
            ?? configuration.net.seeds
        for seed in seeds { try peer(seed, from: join == nil ? "net.seeds" : "--join") }
        let metricsText = metrics ?? configuration.metrics.listen
        let metricsAddress =
            metricsText.isEmpty ? nil : try parse(metricsText, from: metrics == nil ? "metrics.listen" : "--metrics")
        return AgentAddresses(bind: bindAddress, advertise: advertised, seeds: seeds, metrics: metricsAddress)
    }

    private static func parse(
        _ text: String, from source: String, ports: ClosedRange<Int> = 0...65535
    ) throws -> HostPort {
        do {
            return try HostPort(parsing: text, ports: ports)
        } catch {
            throw fail("\(source): \(error)")
        }
    }

    /// A peer's address (a seed, the advertised address): a port from 1, and an IP address,
    /// since peers use it as written and never look names up.
    private static func peer(_ text: String, from source: String) throws {
        let address = try parse(text, from: source, ports: 1...65535)
        guard address.isIPAddress else {
            throw fail(
                "\(source): '\(text)': '\(address.host)' is not an IP address (peer addresses are used as written, never looked up)")
        }
    }
}
