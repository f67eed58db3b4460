# Warnings are errors for podrt's own targets (never for third-party code).
# PODRT_TRY uses GNU statement expressions on purpose; we do not build with -pedantic.
add_library(podrt_warnings INTERFACE)
target_compile_options(podrt_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wimplicit-fallthrough -Werror)
