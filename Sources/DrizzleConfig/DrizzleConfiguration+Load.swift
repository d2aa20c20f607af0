import Configuration
import Synchronization

extension DrizzleConfiguration {
    /// Loads the configuration from `source`, layered by swift-configuration. For every key the
    /// first of these that has it wins:
    ///
    /// 1. a command-line flag: `--net-size 5`, `--net-size=5`, `--gossip-interval-ms 50`;
    /// 2. an environment variable: `DRIZZLE_NET_SIZE=7`, `DRIZZLE_GOSSIP_INTERVAL_MS=50`;
    /// 3. the YAML file at `source.filePath`, if one is given;
    /// 4. ``defaults``.
    ///
    /// Lists are written comma-separated in the environment and on flags (`--net-seeds a:1,b:2`);
    /// empty elements are dropped, so `DRIZZLE_NET_SEEDS=` sets an empty list.
    ///
    /// - Throws: ``ConfigurationError`` for a missing or unreadable file, invalid YAML, an unknown
    ///   key in the file, a value of the wrong type, or a value outside what its key allows. Each
    ///   names the key and where the value came from. A higher layer shadows a lower one, so a bad
    ///   value in the file is not reported while a flag or variable overrides it.
    public static func load(_ source: ConfigurationSource) throws(ConfigurationError) -> DrizzleConfiguration {
        var layers = [Layer.flags(source.arguments), Layer.environment(source.environment)]
        if let contents = source.fileContents {
            let path = source.filePath ?? "<configuration>"
            if let file = try YAMLFile.parse(contents, path: path) { layers.append(Layer(kind: .file(path), provider: file)) }
        } else if let path = source.filePath, let file = try YAMLFile.read(path: path) {
            layers.append(Layer(kind: .file(path), provider: file))
        }
        let recorder = AccessRecorder()
        var loader = LayeredReader(
            reader: ConfigReader(providers: layers.map(\.provider), accessReporter: recorder),
            recorder: recorder,
            layers: layers
        )
        var configuration = DrizzleConfiguration.defaults
        try configuration.visitSettings(&loader)
        try configuration.checkCombinations(origins: loader.origins)
        return configuration
    }

    /// Rules that involve more than one key. The error names the key whose value came from the
    /// highest layer, since that is the one the user most likely just set.
    private func checkCombinations(origins: [String: ConfigurationError.Origin]) throws(ConfigurationError) {
        func blame(_ keys: String...) -> (String, ConfigurationError.Origin) {
            let ranked = keys.map { ($0, origins[$0] ?? .builtInDefault) }
            return ranked.min { $0.1.precedence < $1.1.precedence } ?? (keys[0], .builtInDefault)
        }
        let lastNode = net.size - 1
        if node.peerBasePort > 65535 - lastNode {
            let (blamed, origin) = blame("net.size", "node.peer_base_port")
            throw .invalidValue(
                key: blamed,
                origin: origin,
                problem: "\(net.size) nodes (net.size) from node.peer_base_port \(node.peerBasePort) need ports up to "
                    + "\(node.peerBasePort + lastNode), beyond 65535"
            )
        }
        if membership.probeTimeoutMilliseconds > membership.probeIntervalMilliseconds {
            let (blamed, origin) = blame("membership.probe_timeout_ms", "membership.probe_interval_ms")
            throw .invalidValue(
                key: blamed,
                origin: origin,
                problem: "membership.probe_timeout_ms \(membership.probeTimeoutMilliseconds) must not exceed "
                    + "membership.probe_interval_ms \(membership.probeIntervalMilliseconds)"
            )
        }
    }
}

extension ConfigurationError.Origin {
    /// 0 for flags, the highest layer, up to 3 for the built-in defaults.
    fileprivate var precedence: Int {
        switch self {
        case .flag: 0
        case .environment: 1
        case .file: 2
        case .builtInDefault: 3
        }
    }
}

/// One provider in the hierarchy, and how to name it in an error.
private struct Layer {
    enum Kind {
        case flags
        case environment
        case file(String)
    }

    let kind: Kind
    let provider: any ConfigProvider

    /// Configuration flags only, looked up as `--section-key-name`: `CommandLineArgumentsProvider`
    /// joins a key's components with dashes, and this layer turns the underscores inside each
    /// component into dashes as well, so `gossip.interval_ms` is `--gossip-interval-ms`.
    static func flags(_ arguments: [String]) -> Layer {
        let configurationFlags = ConfigurationSource.splitArguments(arguments).configuration
        // The provider skips the first argument as the program name.
        let provider = CommandLineArgumentsProvider(arguments: ["drizzle"] + configurationFlags)
            .mapKeys { key in
                AbsoluteConfigKey(key.components.map { $0.replacing("_", with: "-") }, context: key.context)
            }
        return Layer(kind: .flags, provider: provider)
    }

    /// `DRIZZLE_`-prefixed variables: `EnvironmentVariablesProvider` upper-cases the key, prefixed
    /// with `drizzle`, and joins its components with underscores.
    static func environment(_ variables: [String: String]) -> Layer {
        let provider = EnvironmentVariablesProvider(environmentVariables: variables).prefixKeys(with: "drizzle")
        return Layer(kind: .environment, provider: provider)
    }

    func origin(of setting: Setting) -> ConfigurationError.Origin {
        switch kind {
        case .flags: .flag(setting.flag)
        case .environment: .environment(setting.environmentVariable)
        case .file(let path): .file(path)
        }
    }

    /// The value this layer holds for `key`, as written, for an error message. `looksRight` says
    /// whether a single value's text would have been accepted; a file value that fails only because
    /// YAML reads it as a string (`size: "3"`) is pointed out as quoted.
    func writtenValue(forKey key: String, looksRight: (String) -> Bool) -> String {
        let absoluteKey = AbsoluteConfigKey(ConfigKey(key))
        if case .string(let text)? = (try? provider.value(forKey: absoluteKey, type: .string))?.value?.content {
            if case .file = kind, looksRight(text) {
                return "\"\(text)\" in quotes"
            }
            return "\"\(text)\""
        }
        if case .stringArray(let items)? = (try? provider.value(forKey: absoluteKey, type: .stringArray))?.value?
            .content
        {
            return items.isEmpty ? "no value" : "[" + items.joined(separator: ", ") + "]"
        }
        return "a value of another kind"
    }
}

/// Reads each setting through the `ConfigReader`, records which layer supplied it, and checks it.
private struct LayeredReader: SettingVisitor {
    typealias Failure = ConfigurationError

    let reader: ConfigReader
    let recorder: AccessRecorder
    let layers: [Layer]
    /// Where each key's value came from.
    var origins: [String: ConfigurationError.Origin] = [:]

    mutating func visit(_ key: String, _ value: inout Int, in bounds: ClosedRange<Int>) throws(ConfigurationError) {
        let read = reader.int(forKey: ConfigKey(key), default: value)
        let origin = try resolve(key, expected: "an integer") { Int($0) != nil }
        guard bounds.contains(read) else {
            let allowed =
                bounds.upperBound == Int.max
                ? "must be at least \(bounds.lowerBound)"
                : "must be between \(bounds.lowerBound) and \(bounds.upperBound)"
            throw .invalidValue(key: key, origin: origin, problem: "\(allowed), found \(read)")
        }
        value = read
    }

    mutating func visit(_ key: String, _ value: inout String, _ rule: TextRule) throws(ConfigurationError) {
        let read = reader.string(forKey: ConfigKey(key), default: value)
        let origin = try resolve(key, expected: "a string") { _ in false }
        if let problem = rule.violation(of: read) {
            throw .invalidValue(key: key, origin: origin, problem: problem)
        }
        value = read
    }

    mutating func visit(_ key: String, _ value: inout [String], each rule: TextRule) throws(ConfigurationError) {
        let read = reader.stringArray(forKey: ConfigKey(key), default: value).filter { !$0.isEmpty }
        let origin = try resolve(key, expected: "a list such as [a, b]") { _ in false }
        for element in read {
            if let problem = rule.violation(of: element) {
                throw .invalidValue(key: key, origin: origin, problem: "each element \(problem)")
            }
        }
        value = read
    }

    mutating func visit(_ key: String, _ value: inout Bool) throws(ConfigurationError) {
        let read = reader.bool(forKey: ConfigKey(key), default: value)
        _ = try resolve(key, expected: "true or false") { Bool($0) != nil }
        value = read
    }

    mutating func visit<Choice: RawRepresentable & CaseIterable>(
        _ key: String,
        _ value: inout Choice
    ) throws(ConfigurationError) where Choice.RawValue == String {
        let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
        let read = reader.string(forKey: ConfigKey(key), default: value.rawValue)
        let origin = try resolve(key, expected: "one of \(allowed)") { _ in false }
        guard let choice = Choice(rawValue: read) else {
            throw .invalidValue(key: key, origin: origin, problem: "must be one of \(allowed), found \"\(read)\"")
        }
        value = choice
    }

    /// Finds which layer supplied the value just read for `key`, from the access event the reader
    /// reported: the providers are asked in order and the last one asked decided. A provider that
    /// failed to convert its value to the key's type becomes a ``ConfigurationError/wrongType``.
    private mutating func resolve(
        _ key: String,
        expected: String,
        looksRight: (String) -> Bool
    ) throws(ConfigurationError) -> ConfigurationError.Origin {
        let setting = Setting.byKey[key] ?? Setting(key: key, kind: .text(.any))
        var origin = ConfigurationError.Origin.builtInDefault
        let results = recorder.takeEvent(forKey: key)?.providerResults ?? []
        if let decisive = results.last, results.count <= layers.count {
            let layer = layers[results.count - 1]
            switch decisive.result {
            case .failure:
                throw .wrongType(
                    key: key,
                    origin: layer.origin(of: setting),
                    expected: expected,
                    found: layer.writtenValue(forKey: key, looksRight: looksRight)
                )
            case .success(let lookup):
                if lookup.value != nil { origin = layer.origin(of: setting) }
            }
        }
        origins[key] = origin
        return origin
    }
}

/// Keeps the access event of the latest read, which the reader reports before it returns.
private final class AccessRecorder: AccessReporter {
    private let latest = Mutex<AccessEvent?>(nil)

    func report(_ event: AccessEvent) {
        latest.withLock { $0 = event }
    }

    func takeEvent(forKey key: String) -> AccessEvent? {
        let components = ConfigKey(key).components
        return latest.withLock { latest in
            defer { latest = nil }
            return latest.flatMap { $0.metadata.key.components == components ? $0 : nil }
        }
    }
}
