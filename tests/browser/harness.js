/*
 * The LMS side of the browser tests: scorm-again plays the LMS run time, and
 * the SCO under test runs in the iframe, as in Moodle's or SCORM Cloud's player.
 *
 * ?version=1.2|2004&sco=<path> picks the API and the page. CMI data to start
 * from (a mastery score, or the suspend data of an earlier launch) comes in
 * window.lmsPreload, set by the test before the page loads. Every call the SCO
 * makes is recorded in window.lms with its result and error code, and every
 * message scorm-again logs at error level in window.lms.errors.
 */
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var version = params.get("version");
  var record = (window.lms = { calls: [], errors: [] });
  var settings = {
    logLevel: 4,
    onLogMessage: function (level, message) {
      record.errors.push(String(message));
    }
  };
  var api = version === "1.2" ? new window.Scorm12API(settings) : new window.Scorm2004API(settings);
  api.loadFromJSON(window.lmsPreload || {});
  var names = version === "1.2"
    ? ["LMSInitialize", "LMSGetValue", "LMSSetValue", "LMSCommit", "LMSFinish"]
    : ["Initialize", "GetValue", "SetValue", "Commit", "Terminate"];
  var lastError = version === "1.2" ? "LMSGetLastError" : "GetLastError";
  names.forEach(function (name) {
    var original = api[name].bind(api);
    api[name] = function () {
      var args = Array.prototype.slice.call(arguments);
      var result = original.apply(null, args);
      record.calls.push({ name: name, args: args, result: String(result), error: String(api[lastError]()) });
      return result;
    };
  });
  window.lmsApi = api;
  window[version === "1.2" ? "API" : "API_1484_11"] = api;
  document.getElementById("sco").src = params.get("sco");
})();
