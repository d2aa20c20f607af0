/// Why a configuration could not be loaded. Its ``description`` is one line that names the file,
/// environment variable or flag, the key, what is wrong and what to do about it, for example
/// `config/bad.yaml: gossip.fanout: expected an integer, found "three" (fix the value or remove
/// the key to use the default)`.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// Where a value came from.
    public enum Origin: Sendable, Equatable, CustomStringConvertible {
        /// The configuration file at this path.
        case file(String)
        /// The named environment variable, such as `DRIZZLE_NET_SIZE`.
        case environment(String)
        /// The named command-line flag, such as `--net-size`.
        case flag(String)
        /// The built-in default (``DrizzleConfiguration/defaults``).
        case builtInDefault

        /// `config/x.yaml`, `environment DRIZZLE_NET_SIZE`, `flag --net-size` or `built-in default`.
        public var description: String {
            switch self {
            case .file(let path): path
            case .environment(let name): "environment \(name)"
            case .flag(let name): "flag \(name)"
            case .builtInDefault: "built-in default"
            }
        }

        /// What the user can do about a bad value from this origin.
        var remedy: String {
            switch self {
            case .file: "fix the value or remove the key to use the default"
            case .environment(let name): "fix the value or unset \(name)"
            case .flag(let name): "fix the value given to \(name) or leave the flag out"
            case .builtInDefault: "set the key to a valid value"
            }
        }
    }

    /// An explicitly named configuration file does not exist.
    case fileNotFound(path: String)
    /// The configuration file exists but could not be read (a directory, no permission, ...).
    case unreadableFile(path: String, reason: String)
    /// The configuration file is not valid YAML, or its top level is not a mapping of sections.
    case invalidYAML(path: String, reason: String)
    /// The configuration file holds a key BitDrizzle does not know (usually a typo); `suggestion`
    /// is the closest known key, if one is close.
    case unknownKey(path: String, key: String, suggestion: String?)
    /// A key earlier versions had and this one dropped, with why.
    case removedKey(path: String, key: String, note: String)
    /// A section such as `gossip` is written as a single value instead of a mapping of keys.
    case sectionNotMapping(path: String, section: String)
    /// A value does not have the key's type: `expected` says what the key takes, `found` shows the
    /// value as written.
    case wrongType(key: String, origin: Origin, expected: String, found: String)
    /// A value has the right type but is outside what the key allows; `problem` says what is allowed
    /// and what was found.
    case invalidValue(key: String, origin: Origin, problem: String)

    /// The one-line message for the user.
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            "\(path): file not found (pass an existing file to --config)"
        case .unreadableFile(let path, let reason):
            "\(path): cannot read the file: \(reason) (check the path and its permissions)"
        case .invalidYAML(let path, let reason):
            "\(path): not valid YAML: \(reason) (fix the syntax)"
        case .unknownKey(let path, let key, let suggestion?):
            "\(path): \(key): unknown key, did you mean \(suggestion)? (fix the spelling or remove the key)"
        case .removedKey(let path, let key, let note): "\(path): \(key): no longer a setting: \(note) (remove the key)"
        case .unknownKey(let path, let key, nil):
            "\(path): \(key): unknown key (remove it; docs/configuration.md lists every key)"
        case .sectionNotMapping(let path, let section):
            "\(path): \(section): expected a section of keys, found a single value "
                + "(indent the section's keys under \(section):)"
        case .wrongType(let key, let origin, let expected, let found):
            "\(origin): \(key): expected \(expected), found \(found) (\(origin.remedy))"
        case .invalidValue(let key, let origin, let problem):
            "\(origin): \(key): \(problem) (\(origin.remedy))"
        }
    }
}
