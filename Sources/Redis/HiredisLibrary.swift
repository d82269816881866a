import CHiredis

/// The hiredis this process was built against.
public enum HiredisLibrary {
    /// "MAJOR.MINOR.PATCH" from hiredis.h.
    public static var version: String { "\(HIREDIS_MAJOR).\(HIREDIS_MINOR).\(HIREDIS_PATCH)" }
}
