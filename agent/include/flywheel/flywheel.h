/*
 * flywheel/flywheel.h — the public API of libflywheel.
 *
 * (Filled in by the agent work; until then only the version is exported.)
 */
#ifndef FLYWHEEL_FLYWHEEL_H
#define FLYWHEEL_FLYWHEEL_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(FW_BUILDING_LIBRARY)
#define FW_API __attribute__((visibility("default")))
#else
#define FW_API
#endif

/*
 * Returns the library version as "MAJOR.MINOR.PATCH". Thread-safe, never
 * blocks; the string is static and owned by the library.
 */
FW_API const char *fw_version(void);

#ifdef __cplusplus
}
#endif

#endif
