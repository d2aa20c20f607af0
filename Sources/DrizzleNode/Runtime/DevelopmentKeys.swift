public import DrizzleCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// Development keys for a cluster on one machine: a CA and node keys issued on first use, through
/// the same `KeyStore` as `drizzle-keys` (the prompt's multi mode and the library's examples use it).
public enum DevelopmentKeys {
    /// Makes sure `directory` holds a CA (valid a year) and a key for each of `names` (valid 30
    /// days); returns one line per thing it issued.
    public static func ensure(_ names: [String], in directory: String) throws(KeyStore.Failure) -> [String] {
        let store = KeyStore(directory: directory)
        let now = WallClock.now().unixSeconds
        var lines: [String] = []
        if !FileSystem.exists(store.caKeyPath) {
            let authority = try store.createAuthority(name: "drizzle-dev-ca", durationSeconds: 365 * 86_400, now: now - 60)
            lines.append("no CA in \(store.directory)/: issued a development CA \(authority.issuer) (drizzle-keys manages it)")
        }
        var issued = 0
        for name in names where !FileSystem.exists(store.keyPath(of: name)) {
            _ = try store.issue(name: name, durationSeconds: 30 * 86_400, now: now - 60)
            issued += 1
        }
        if issued > 0 { lines.append("issued \(issued) development node key\(issued == 1 ? "" : "s") in \(store.directory)/nodes/") }
        return lines
    }
}

/// Whether a path exists (any kind of file).
package enum FileSystem {
    package static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }
}
