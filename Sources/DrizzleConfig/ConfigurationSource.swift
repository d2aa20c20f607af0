import Foundation

/// The inputs ``DrizzleConfiguration/load(_:)`` layers: a file, an environment and command-line
/// arguments. Tests pass their own values; the executable uses ``process(filePath:)``.
public struct ConfigurationSource: Sendable {
    /// A YAML file to read, or nil for none. A path that is given but does not exist is an error.
    public var filePath: String?
    /// Environment variables; only `DRIZZLE_*` names are read.
    public var environment: [String: String]
    /// Command-line arguments, without the program name. Only configuration flags (`--net-size 5`,
    /// `--net-size=5`) are read; everything else — subcommands, positional arguments, the executable's
    /// own flags — is ignored, so it never makes loading fail.
    public var arguments: [String]
    /// The YAML file's bytes when the caller has them already (read from standard input, say): they
    /// are parsed instead of opening `filePath`, which then only names the file in errors.
    public var fileContents: [UInt8]?

    /// Creates a source from explicit values.
    public init(
        filePath: String? = nil, environment: [String: String] = [:], arguments: [String] = [],
        fileContents: [UInt8]? = nil
    ) {
        self.filePath = filePath
        self.environment = environment
        self.arguments = arguments
        self.fileContents = fileContents
    }

    /// The running process's environment and command-line arguments, with the given file.
    public static func process(filePath: String?) -> ConfigurationSource {
        ConfigurationSource(
            filePath: filePath,
            environment: ProcessInfo.processInfo.environment,
            arguments: Array(CommandLine.arguments.dropFirst())
        )
    }

    /// Splits command-line arguments (without the program name) into the configuration flags with
    /// their values and everything else, keeping the order of each. An executable that parses its
    /// own flags can hand it `remaining` and pass `configuration` on as ``arguments``.
    ///
    /// A configuration flag takes its value as `--key=value` or as the next argument, unless that
    /// argument starts with `--`. A boolean flag takes the next argument only when it reads as a
    /// boolean (`true`, `false`, `yes`, `no`, `on`, `off`, `1`, `0`), so `--membership-lifeguard
    /// agent` leaves `agent` alone. Everything after a bare `--` is left alone.
    public static func splitArguments(_ arguments: [String]) -> (configuration: [String], remaining: [String]) {
        var configuration: [String] = []
        var remaining: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                remaining.append(contentsOf: arguments[(index - 1)...])
                break
            }
            let name = String(argument.prefix { $0 != "=" })
            guard let setting = Setting.byFlag[name] else {
                remaining.append(argument)
                continue
            }
            configuration.append(argument)
            guard name == argument, index < arguments.endIndex else { continue }
            let next = arguments[index]
            guard !next.hasPrefix("--") else { continue }
            if setting.kind == .boolean && !booleanWords.contains(next.lowercased()) { continue }
            configuration.append(next)
            index += 1
        }
        return (configuration, remaining)
    }

    private static let booleanWords: Set<String> = ["true", "false", "yes", "no", "on", "off", "1", "0"]
}
