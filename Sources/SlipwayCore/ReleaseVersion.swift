/// Release versions are directory names under `releases/`, so they must be safe names.
public enum ReleaseVersion {
    public static func validate(_ version: String) throws(SlipwayError) {
        let allowed = version.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-+".contains($0)) }
        guard !version.isEmpty, version.count <= 128, allowed, version != ".", version != "..",
            !version.hasPrefix("."), !version.hasPrefix("-")
        else {
            throw .usage(
                "invalid release version '\(version)': use letters, digits, '.', '_', '-', '+' "
                    + "(no '/', no '..', not starting with '.' or '-'), at most 128 characters")
        }
    }

    /// Names used for apps and environments: `[a-z0-9-]+`.
    public static func isSimpleName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 63
            && name.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" }
    }
}
