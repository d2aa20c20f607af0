/// Every setting a BitDrizzle node reads, typed and validated.
///
/// The shipped `config/default.yaml` and ``defaults`` hold the same values (a test pins this).
/// Get a configuration from a file, the environment and flags with
/// ``load(_:)``; every value it returns has passed the checks listed on each field.
///
/// Field names follow the file's snake_case keys in camelCase, with units spelled out
/// (`gossip.interval_ms` is ``Gossip/intervalMilliseconds``).
public struct DrizzleConfiguration: Sendable, Equatable {
    /// Where the node binds and what it advertises (`node.*`).
    public var node: Node
    /// The size and entry points of the network (`net.*`).
    public var net: Net
    /// Stored data and the original's test file and key (`data.*`).
    public var data: Data
    /// Key material and replay protection (`keys.*`).
    public var keys: Keys
    /// Rumor mongering and anti-entropy (`gossip.*`).
    public var gossip: Gossip
    /// SWIM failure detection (`membership.*`).
    public var membership: Membership
    /// Network size estimation (`size.*`).
    public var size: Size
    /// Clock offset, drift and synchronisation (`clock.*`).
    public var clock: Clock
    /// The Prometheus endpoint (`metrics.*`).
    public var metrics: Metrics

    /// Creates a configuration from its sections.
    public init(
        node: Node,
        net: Net,
        data: Data,
        keys: Keys,
        gossip: Gossip,
        membership: Membership,
        size: Size,
        clock: Clock,
        metrics: Metrics
    ) {
        self.node = node
        self.net = net
        self.data = data
        self.keys = keys
        self.gossip = gossip
        self.membership = membership
        self.size = size
        self.clock = clock
        self.metrics = metrics
    }

    /// `node.*`: where a node binds and what it tells peers.
    public struct Node: Sendable, Equatable {
        /// `node.host`, the original's HOST: the address nodes bind and advertise. Not empty.
        public var host: String
        /// `node.peer_base_port`, the original's base peer port: node *i* of multi mode listens on
        /// `peerBasePort + i` for UDP gossip and TCP RPC. 1...65535.
        public var peerBasePort: Int
        /// `node.advertise`: `host:port` peers should use when it differs from the bind address;
        /// empty means advertise `host` and the peer port.
        public var advertise: String

        /// Creates the `node` section.
        public init(host: String, peerBasePort: Int, advertise: String) {
            self.host = host
            self.peerBasePort = peerBasePort
            self.advertise = advertise
        }
    }

    /// `net.*`: how many nodes and how to find them.
    public struct Net: Sendable, Equatable {
        /// `net.size`, the original's net_size: nodes started by `MM` / `drizzle cluster`.
        /// 1...65535, and the last node's ports must stay within 65535.
        public var size: Int
        /// `net.seeds`: entry nodes (`host:port`) for `FN`/`JN`; empty means scan the peer port range
        /// on ``scanHosts``.
        public var seeds: [String]
        /// `net.scan_hosts`: hosts whose peer port range is scanned when ``seeds`` is empty.
        public var scanHosts: [String]

        /// Creates the `net` section.
        public init(size: Int, seeds: [String], scanHosts: [String]) {
            self.size = size
            self.seeds = seeds
            self.scanHosts = scanHosts
        }
    }

    /// `data.*`: stored pieces and the original's defaults for the data commands.
    public struct Data: Sendable, Equatable {
        /// Where a node keeps the blobs it holds.
        public enum Store: String, Sendable, CaseIterable {
            /// One file per blob under `data.dir`, fsynced: survives a restart.
            case disk
            /// In memory: faster writes, but a node's blobs are gone when it stops; they live on
            /// only while some of their r replicas run.
            case memory
        }

        /// `data.file`, the original's default file for `W[L|N]`. Not empty.
        public var file: String
        /// `data.piece_size`, the original's piece size in bytes, 1 to `maximumPieceSize`.
        public var pieceSize: Int
        /// `data.test_key`, the original's test_key: the default key for `R`/`D`. 32 hex digits.
        public var testKey: String
        /// `data.replicas`: copies of every piece kept on the ring. At least 1.
        public var replicas: Int
        /// `data.dir`: where a node stores its pieces. Not empty.
        public var directory: String
        /// `data.store`: `disk` (the default) or `memory`.
        public var store: Store

        /// Creates the `data` section.
        public init(
            file: String, pieceSize: Int, testKey: String, replicas: Int, directory: String, store: Store = .disk
        ) {
            self.file = file
            self.pieceSize = pieceSize
            self.testKey = testKey
            self.replicas = replicas
            self.directory = directory
            self.store = store
        }
    }

    /// `keys.*`: key material and replay protection.
    public struct Keys: Sendable, Equatable {
        /// `keys.dir`: the node key, certificate and trust bundle. Not empty.
        public var directory: String
        /// `keys.replay_window`: datagrams remembered per sender. 1...1048576.
        public var replayWindow: Int

        /// Creates the `keys` section.
        public init(directory: String, replayWindow: Int) {
            self.directory = directory
            self.replayWindow = replayWindow
        }
    }

    /// `gossip.*`: rumor mongering (Demers et al.) with memberlist-style transmit limits.
    public struct Gossip: Sendable, Equatable {
        /// Which rumor-mongering rule decides when a node stops spreading a rumor.
        public enum Variant: String, Sendable, CaseIterable {
            /// Stop after `k` contacts that already knew the rumor.
            case feedbackCounter = "feedback-counter"
            /// Stop after `k` rounds, whatever the contacts say.
            case blindCounter = "blind-counter"
            /// Lose interest with probability 1/`k` after each contact that already knew it.
            case feedbackCoin = "feedback-coin"
            /// Lose interest with probability 1/`k` after every round.
            case blindCoin = "blind-coin"
        }

        /// Which direction rumors travel in a gossip exchange.
        public enum Mode: String, Sendable, CaseIterable {
            /// The caller sends its hot rumors.
            case push
            /// The caller asks for the callee's hot rumors.
            case pull
            /// Both.
            case pushPull = "push-pull"
        }

        /// How many times a rumor is piggybacked before it is dropped.
        public enum TransmitLimit: String, Sendable, CaseIterable {
            /// `retransmitMultiplier * ceil(log10(n + 1))`, as hashicorp/memberlist does.
            case memberlist
            /// `retransmitMultiplier * log2(n + 1)`.
            case log2
        }

        /// `gossip.interval_ms`: the gossip round period. 1...86400000 (one day).
        public var intervalMilliseconds: Int
        /// `gossip.fanout`: peers contacted per round. At least 1.
        public var fanout: Int
        /// `gossip.max_datagram_bytes`: largest datagram sent, including the 64-byte signature.
        /// 256...65507 (65507 is the largest UDP payload over IPv4).
        public var maxDatagramBytes: Int
        /// `gossip.variant`.
        public var variant: Variant
        /// `gossip.k`: the counter limit, or the coin's 1/k. At least 1.
        public var k: Int
        /// `gossip.mode`.
        public var mode: Mode
        /// `gossip.transmit_limit`.
        public var transmitLimit: TransmitLimit
        /// `gossip.retransmit_mult`: the multiplier in ``transmitLimit``. 1...1000.
        public var retransmitMultiplier: Int
        /// `gossip.anti_entropy_interval_ms`: period of a full state exchange with one random peer.
        /// 1...86400000.
        public var antiEntropyIntervalMilliseconds: Int

        /// Creates the `gossip` section.
        public init(
            intervalMilliseconds: Int,
            fanout: Int,
            maxDatagramBytes: Int,
            variant: Variant,
            k: Int,
            mode: Mode,
            transmitLimit: TransmitLimit,
            retransmitMultiplier: Int,
            antiEntropyIntervalMilliseconds: Int
        ) {
            self.intervalMilliseconds = intervalMilliseconds
            self.fanout = fanout
            self.maxDatagramBytes = maxDatagramBytes
            self.variant = variant
            self.k = k
            self.mode = mode
            self.transmitLimit = transmitLimit
            self.retransmitMultiplier = retransmitMultiplier
            self.antiEntropyIntervalMilliseconds = antiEntropyIntervalMilliseconds
        }
    }

    /// `membership.*`: SWIM probing and suspicion, with Lifeguard.
    public struct Membership: Sendable, Equatable {
        /// `membership.probe_interval_ms`: one member is probed per interval.
        /// 1...86400000.
        public var probeIntervalMilliseconds: Int
        /// `membership.probe_timeout_ms`: wait for a direct ack before asking others. 1...86400000 and
        /// not more than ``probeIntervalMilliseconds``.
        public var probeTimeoutMilliseconds: Int
        /// `membership.indirect_checks`: members asked to probe indirectly; 0 means direct probes only.
        public var indirectChecks: Int
        /// `membership.suspicion_mult`: scales how long a suspect has to refute. 1...1000.
        public var suspicionMultiplier: Int
        /// `membership.dead_reap_ms`: how long a dead member is remembered. 1...86400000.
        public var deadReapMilliseconds: Int
        /// `membership.lifeguard`: local health awareness and dynamic suspicion timeouts.
        public var lifeguard: Bool

        /// Creates the `membership` section.
        public init(
            probeIntervalMilliseconds: Int,
            probeTimeoutMilliseconds: Int,
            indirectChecks: Int,
            suspicionMultiplier: Int,
            deadReapMilliseconds: Int,
            lifeguard: Bool
        ) {
            self.probeIntervalMilliseconds = probeIntervalMilliseconds
            self.probeTimeoutMilliseconds = probeTimeoutMilliseconds
            self.indirectChecks = indirectChecks
            self.suspicionMultiplier = suspicionMultiplier
            self.deadReapMilliseconds = deadReapMilliseconds
            self.lifeguard = lifeguard
        }
    }

    /// `size.*`: gossip-based estimation of the number of nodes (`SZ`).
    public struct Size: Sendable, Equatable {
        /// The aggregation protocol used to estimate the size.
        public enum Algorithm: String, Sendable, CaseIterable {
            /// Push-pull averaging (Jelasity et al.): one node starts at 1, the rest at 0.
            case pushPull = "push-pull"
            /// Push-sum (Kempe et al.).
            case pushSum = "push-sum"
        }

        /// `size.algorithm`.
        public var algorithm: Algorithm
        /// `size.epoch_cycles`: size cycles (one per SWIM probe period) per estimation epoch. 1...1000000.
        public var epochCycles: Int
        /// `size.instances`: concurrent estimation instances whose answers are averaged. 1...1000.
        public var instances: Int

        /// Creates the `size` section.
        public init(algorithm: Algorithm, epochCycles: Int, instances: Int) {
            self.algorithm = algorithm
            self.epochCycles = epochCycles
            self.instances = instances
        }
    }

    /// `clock.*`: the node's clock as experiments see it, and how nodes agree on time.
    public struct Clock: Sendable, Equatable {
        /// How nodes synchronise their clocks.
        public enum Sync: String, Sendable, CaseIterable {
            /// Converge on the average of the members' clocks.
            case average
            /// Follow a reference node.
            case reference
            /// No synchronisation.
            case off
        }

        /// `clock.offset_ms`: artificial offset added to this node's clock.
        /// -86400000...86400000 (one day either way).
        public var offsetMilliseconds: Int
        /// `clock.drift_ppm`: artificial drift in parts per million. -1000000...1000000.
        public var driftPPM: Int
        /// `clock.sync`.
        public var sync: Sync
        /// `clock.reference`: the name of the node every other follows when `sync` is
        /// `reference`; empty means none (nodes then only estimate).
        public var reference: String

        /// Creates the `clock` section.
        public init(offsetMilliseconds: Int, driftPPM: Int, sync: Sync, reference: String = "") {
            self.offsetMilliseconds = offsetMilliseconds
            self.driftPPM = driftPPM
            self.sync = sync
            self.reference = reference
        }
    }

    /// `metrics.*`: the Prometheus endpoint.
    public struct Metrics: Sendable, Equatable {
        /// `metrics.listen`: `host:port` to serve Prometheus metrics on; empty means off.
        public var listen: String

        /// Creates the `metrics` section.
        public init(listen: String) {
            self.listen = listen
        }
    }
}

extension DrizzleConfiguration {
    /// The built-in defaults, identical to the shipped `config/default.yaml`. Any key a file,
    /// the environment and the flags all leave out takes its value from here.
    /// The largest `data.piece_size`: 8 MiB minus the 8-byte salt every piece blob starts with, so
    /// that a blob fits one store message (the node's `DataClient.maximumPieceSize`; a test holds
    /// the two equal).
    public static let maximumPieceSize = 8 * 1024 * 1024 - 8

    public static let defaults = DrizzleConfiguration(
        node: Node(host: "127.0.0.1", peerBasePort: 40000, advertise: ""),
        net: Net(size: 24, seeds: [], scanHosts: ["127.0.0.1"]),
        data: Data(
            file: "test_file.txt",
            pieceSize: 256,
            testKey: "8F3A9C1D2B4E6F708192A3B4C5D6E7F8",
            replicas: 3,
            directory: "data/"
        ),
        keys: Keys(directory: "keys/", replayWindow: 1024),
        gossip: Gossip(
            intervalMilliseconds: 200,
            fanout: 3,
            maxDatagramBytes: 1200,
            variant: .feedbackCounter,
            k: 3,
            mode: .push,
            transmitLimit: .memberlist,
            retransmitMultiplier: 4,
            antiEntropyIntervalMilliseconds: 30000
        ),
        membership: Membership(
            probeIntervalMilliseconds: 1000,
            probeTimeoutMilliseconds: 500,
            indirectChecks: 3,
            suspicionMultiplier: 4,
            deadReapMilliseconds: 30000,
            lifeguard: true
        ),
        size: Size(algorithm: .pushPull, epochCycles: 20, instances: 1),
        clock: Clock(offsetMilliseconds: 0, driftPPM: 0, sync: .average),
        metrics: Metrics(listen: "")
    )
}
