// Filters and chart clicks go into the address in the browser: the page router's request is then the
// only round trip a filter change or a click makes (on a field link, a round trip is 300 ms or more).
// The query string is read as the server reads it (parse_qsl: blank values dropped, the last of a
// repeated key kept) and written with URLSearchParams; the pages parse either encoding the same way.
(function () {
  const CLICK_ACTIONS = ["entity", "duty_station", "platform", "learning_need", "programme"];

  function queryOf(search) {
    const query = new Map();
    for (const [key, value] of new URLSearchParams((search || "").replace(/^\?/, ""))) {
      if (value !== "") query.set(key, value); // a repeated key: its first place, its last value
    }
    return query;
  }

  function searchOf(query) {
    const text = new URLSearchParams([...query]).toString();
    return text ? "?" + text : "";
  }

  // "2024-09" -> "2024-09-01" (start) or "2024-09-30" (end); anything else -> null.
  function monthBound(month, end) {
    const found = /^(\d{4})-(\d{1,2})$/.exec(String(month));
    if (!found) return null;
    const year = Number(found[1]);
    const number = Number(found[2]);
    if (year < 1 || number < 1 || number > 12) return null;
    const day = end ? new Date(Date.UTC(year, number, 0)).getUTCDate() : 1;
    return `${found[1].padStart(4, "0")}-${String(number).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
  }

  // The query string after the filter controls changed (other keys in ``search`` are kept).
  function searchFor(values, ids, search) {
    const query = queryOf(search);
    ids.forEach((control, position) => {
      let key = control.name;
      let value = values[position];
      if (key === "from_month") {
        key = "from";
        value = monthBound(value, false);
      } else if (key === "to_month") {
        key = "to";
        value = monthBound(value, true);
      }
      if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) {
        query.delete(key);
      } else {
        query.set(key, String(value)); // a key already there keeps its place, as in a dict
      }
    });
    return searchOf(query);
  }

  // Where a click on a point leads: an entity opens its profile, anything else filters this page.
  function hrefAfterClick(action, click, pathname, search) {
    const points = (click && click.points) || [];
    if (!points.length || !CLICK_ACTIONS.includes(action)) return null;
    let code = points[0].customdata;
    if (Array.isArray(code)) code = code.length ? code[0] : null;
    if (typeof code !== "string" || !code) return null;
    const query = queryOf(search);
    if (action === "entity") {
      query.delete("entity");
      return `/entity/${encodeURIComponent(code)}${searchOf(query)}`;
    }
    query.set(action, code);
    return `${pathname}${searchOf(query)}`;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    url_state: {
      monthBound,
      searchFor,
      hrefAfterClick,
      // Dash calls this when a page's filter bar appears too (its controls join the ALL pattern): the
      // address is then left alone, so nothing that reads it (the page, the menu's links) runs again.
      filtersToUrl(values, ids, search) {
        const found = searchFor(values, ids, search);
        return found === searchOf(queryOf(search)) ? window.dash_clientside.no_update : found;
      },
      clickToFilter(clicks, pathname, search) {
        const context = window.dash_clientside.callback_context;
        const trigger = context.triggered_id;
        if (!trigger || typeof trigger !== "object") return window.dash_clientside.no_update;
        const position = context.inputs_list[0].findIndex(
          (spec) => spec.id.action === trigger.action && spec.id.view === trigger.view,
        );
        const href = position < 0 ? null : hrefAfterClick(trigger.action, clicks[position], pathname, search);
        return href === null ? window.dash_clientside.no_update : href;
      },
    },
  });
})();
