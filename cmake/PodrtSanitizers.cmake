# PODRT_SANITIZE=ON builds everything with ASan + UBSan; the test command runs this build too.
if(PODRT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
