import BitDrizzle
import DrizzleTerminal
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `drizzle-members-service`: a BitDrizzle node embedded beside a Hummingbird HTTP endpoint, both
/// services of one `ServiceGroup` (SIGINT/SIGTERM stop both; the node leaves gracefully).
///
///     drizzle-members-service --name web-1 --bind 127.0.0.1:47600 --http 127.0.0.1:8080 [--join host:port]
///     curl http://127.0.0.1:8080/members     → [{"id":"…","address":"…","state":"alive","incarnation":0}, …]
///     curl http://127.0.0.1:8080/size        → {"estimate":3.0,"membersInView":3}
@main
struct MembersService {
    struct MemberJSON: ResponseEncodable {
        var id: String
        var address: String
        var state: String
        var incarnation: UInt64
    }

    struct SizeJSON: ResponseEncodable {
        var estimate: Double?
        var membersInView: Int
    }

    static func main() async throws {
        StandardStreams.prepare()
        let arguments = Arguments(CommandLine.arguments.dropFirst())
        guard let name = arguments["--name"] else {
            StandardStreams.note("usage: drizzle-members-service --name NAME [--bind H:P] [--http H:P] [--join H:P] [--keys-dir DIR]")
            exit(2)
        }
        let keys = arguments["--keys-dir"] ?? "service-keys"
        var logger = Logger(label: "members-service")
        logger.logLevel = .notice
        var configuration = DrizzleConfiguration.defaults
        configuration.keys.directory = keys
        configuration.data.directory = arguments["--data-dir"] ?? "service-data"
        configuration.net.seeds = []
        do {
            try BitDrizzleNode.issueDevelopmentKeys(for: [name], in: keys)
        } catch {
            StandardStreams.note("drizzle-members-service: \(error)")
            exit(1)
        }
        let node = BitDrizzleNode(
            configuration: configuration, name: name, bind: arguments["--bind"] ?? "127.0.0.1:0",
            seeds: arguments["--join"].map { [$0] } ?? [], logger: logger)

        let router = Router()
        router.get("members") { _, _ -> [MemberJSON] in
            do {
                return try await node.members().map {
                    MemberJSON(id: $0.id, address: $0.address, state: $0.state.rawValue, incarnation: $0.incarnation)
                }
            } catch {
                throw httpError(error)
            }
        }
        router.get("size") { _, _ -> SizeJSON in
            do {
                let size = try await node.size()
                return SizeJSON(estimate: size.estimate, membersInView: size.membersInView)
            } catch {
                throw httpError(error)
            }
        }
        let (host, port) = arguments.hostPort("--http") ?? ("127.0.0.1", 8080)
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: node), .init(service: app)], gracefulShutdownSignals: [.sigint, .sigterm], logger: logger))
        try await group.run()
    }
}

/// `--flag value` pairs.
struct Arguments {
    private var values: [String: String] = [:]

    init(_ words: ArraySlice<String>) {
        var iterator = words.makeIterator()
        while let word = iterator.next() {
            if word.hasPrefix("--"), let value = iterator.next() { values[word] = value }
        }
    }

    subscript(_ flag: String) -> String? { values[flag] }

    func hostPort(_ flag: String) -> (String, Int)? {
        guard let text = values[flag], let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...])
        else { return nil }
        return (String(text[..<colon]), port)
    }
}

/// A node error as an HTTP answer: 503 while the node is not running, else 500, with its one line.
func httpError(_ error: any Error) -> HTTPError {
    let unavailable = (error as? BitDrizzleError).map { $0 == .notStarted || $0 == .stopped } ?? false
    return HTTPError(unavailable ? .serviceUnavailable : .internalServerError, message: "\(error)")
}
