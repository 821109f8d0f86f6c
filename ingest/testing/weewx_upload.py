"""Posts one archive record through weewx's Weather-Underground uploader (weewx.restx.AmbientThread,
as StdWunderground configures it for archive posts) to WU_URL, as station WU_ID with WU_PASSWORD.
Prints 'posted' and exits 0 when weewx accepted the answer; prints the exception and exits 3 when not."""
import os
import queue
import sys

import weewx
import weewx.restx

thread = weewx.restx.AmbientThread(
    queue.Queue(), None,
    station=os.environ["WU_ID"], password=os.environ["WU_PASSWORD"], server_url=os.environ["WU_URL"],
    protocol_name="Wunderground-PWS", max_tries=1, retry_wait=0, log_success=False, log_failure=False,
)
record = {
    "dateTime": int(os.environ["WU_TS"]), "usUnits": weewx.US, "interval": 5,
    "outTemp": 50.0, "outHumidity": 71.0, "barometer": 29.92, "dewpoint": 41.0,
    "windSpeed": 3.0, "windDir": 225.0, "windGust": 5.0, "dayRain": 0.0, "inTemp": 70.0,
}
try:
    thread.process_record(record, None)
except Exception as err:  # weewx raises BadLogin / FailedPost on a refused upload
    print(type(err).__name__, err)
    sys.exit(3)
print("posted")
