# The services, the quick start's demo application and the quick start
# itself (issue 11 items 13-16). Included by tests/CMakeLists.txt.
fw_add_script_test(NAME integration_services SCRIPT integration/test_services.sh
  LABELS integration TIMEOUT 300)
fw_add_script_test(NAME integration_demo_traffic SCRIPT integration/test_demo_traffic.sh
  LABELS integration TIMEOUT 120)
