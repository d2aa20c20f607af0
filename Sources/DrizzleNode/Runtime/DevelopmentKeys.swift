public import DrizzleCore
public import DrizzleCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// Development keys for a cluster on one machine: a CA and node keys issued on first use, and
/// renewed before they expire, through the same `KeyStore` as `drizzle-keys` (the prompt's multi
/// mode and the library's examples use it).
///
/// It renews only what it made: the development CA (named `authorityName`) and node certificates
/// that CA issued, and only where the CA's secret key is. A CA made with `drizzle-keys ca`, the
/// certificates it issued and a node host's folder (a bundle without `ca.key`) are never changed;
/// their certificates near expiry are reported in one line instead.
public enum DevelopmentKeys {
    /// The name of the CA this type makes; it renews only a CA of that name.
    public static let authorityName = "drizzle-dev-ca"
    /// How long a development CA is valid: ten years, as `drizzle-keys ca`.
    public static let authorityDurationSeconds: Int64 = 3_650 * 86_400
    /// How long a development node certificate is valid: a year, as `drizzle-keys issue`.
    public static let nodeDurationSeconds: Int64 = 365 * 86_400

    /// Makes sure `directory` holds a CA and a key and certificate for each of `names`, and
    /// returns one line per thing it did or found:
    ///
    /// - an empty folder (no `ca.key`, no `bundle.crt`) gets a development CA;
    /// - a name without a key gets one (from whatever CA the folder holds);
    /// - the development CA, when it expires within `KeyStore.expiringWindowSeconds` or has
    ///   expired, is rotated (the old one stays in the bundle), and development node
    ///   certificates that expire within that window are reissued with `KeyStore.rotate`, which
    ///   keeps each node's id (a running node picks the new files up by itself);
    /// - the certificates of `names` still near expiry after that (not development ones) are
    ///   reported in one line, `ExpiryWarnings.line(for:now:)`.
    ///
    /// `now` is Unix seconds; files are stamped a minute earlier, for clocks a little behind.
    public static func ensure(
        _ names: [String], in directory: String, now: Int64 = WallClock.now().unixSeconds
    ) throws(KeyStore.Failure) -> [String] {
        let store = KeyStore(directory: directory)
        let window = KeyStore.expiringWindowSeconds
        var lines: [String] = []
        if !FileSystem.exists(store.caKeyPath) && !FileSystem.exists(store.bundlePath) {
            let authority = try store.createAuthority(
                name: authorityName, durationSeconds: authorityDurationSeconds, now: now - 60)
            lines.append(
                "no CA in \(store.directory)/: issued a development CA \(authority.issuer) (drizzle-keys manages it)")
        }
        // Renewal needs the development CA's secret key; anything else is left as it is.
        var development: Set<KeyID> = []
        if FileSystem.exists(store.caKeyPath), let authority = try? store.authority().certificate,
            authority.name == authorityName
        {
            if authority.notAfter - now <= window {
                let (current, previous) = try store.rotateAuthority(
                    durationSeconds: authorityDurationSeconds, now: now - 60)
                let when = authority.notAfter < now ? "has expired" : "expires within \(window / 86_400) days"
                lines.append(
                    "the development CA \(previous.issuer) \(when): made a new one, \(current.issuer) "
                        + "(the old one stays in \(store.bundlePath))")
            }
            let bundle = (try? store.trustedAuthorities()) ?? []
            development = Set(bundle.filter { $0.name == authorityName }.map(\.issuer))
        }
        var issued = 0
        var renewed = 0
        var expiring: [(name: String, notAfter: Int64)] = []
        for name in names {
            guard FileSystem.exists(store.keyPath(of: name)) else {
                _ = try store.issue(name: name, durationSeconds: nodeDurationSeconds, now: now - 60)
                issued += 1
                continue
            }
            // A certificate that cannot be read is left for the node's start to report.
            guard let certificate = try? KeyFiles.loadCertificate(store.certificatePath(of: name)),
                certificate.notAfter - now <= window
            else { continue }
            if development.contains(certificate.issuer) {
                _ = try store.rotate(name: name, durationSeconds: nodeDurationSeconds, now: now - 60)
                renewed += 1
            } else {
                expiring.append((name, certificate.notAfter))
            }
        }
        if issued > 0 {
            lines.append("issued \(issued) development node key\(issued == 1 ? "" : "s") in \(store.directory)/nodes/")
        }
        if renewed > 0 {
            lines.append(
                "renewed \(renewed) development node certificate\(renewed == 1 ? "" : "s") in "
                    + "\(store.directory)/nodes/ (expired or expiring within \(window / 86_400) days; node ids kept)")
        }
        if let line = ExpiryWarnings.line(for: expiring, now: now) { lines.append(line) }
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
