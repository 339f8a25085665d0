/*
 * Camstack nodes, editor side: camera dropdowns filled from the runtime's admin route
 * GET camstack/<server id>/cameras, and the config node's connection test. Loaded by every
 * Camstack node's HTML; defines window.CamstackEditor once.
 */
(() => {
  if (window.CamstackEditor) return;

  /** URL and (when the editor knows it) token of a camstack-server config node. */
  function serverInfo(serverId) {
    const cfg = serverId ? RED.nodes.node(serverId) : null;
    if (!cfg) return null;
    const creds = cfg.credentials || {};
    return { url: cfg.baseUrl || '', token: typeof creds.token === 'string' && creds.token !== '' ? creds.token : '' };
  }

  /**
   * Lists the cameras of a server. The runtime uses the deployed node's token; for a node not
   * deployed yet, or whose token was just typed, the editor sends URL and token along.
   */
  function fetchCameras(serverId, info, callback) {
    const headers = {};
    if (info?.token) headers['X-Camstack-Token'] = info.token;
    $.ajax({
      url: `camstack/${encodeURIComponent(serverId)}/cameras`,
      data: info?.url ? { url: info.url } : {},
      headers: headers,
      dataType: 'json',
      timeout: 15000,
    })
      .done((list) => callback(null, list))
      .fail((xhr) => {
        const body = xhr.responseJSON;
        callback(body?.error ? body.error : xhr.statusText || 'no answer', null);
      });
  }

  /**
   * Turns the text field `opts.input` (default #node-input-camera) into a dropdown of the chosen
   * server's cameras. The text field stays as the fallback when the list cannot be loaded, so a
   * camera id can always be typed. `opts.allowAll` adds "every camera" (empty value).
   */
  function cameraPicker(opts) {
    const o = opts || {};
    const $input = $(o.input || '#node-input-camera');
    const $server = $(o.server || '#node-input-server');
    const $select = $('<select style="width: calc(70% - 38px)"></select>');
    const $refresh = $(
      '<button type="button" class="red-ui-button" style="margin-left: 4px" title="Reload the cameras"><i class="fa fa-refresh"></i></button>',
    );
    const $tip = $('<div class="form-tips" style="display:none; margin-top: 4px"></div>');
    $input.after($tip).after($refresh).after($select);

    function showText(message) {
      $select.hide();
      $input.show();
      $tip.text(message).show();
    }

    function load() {
      const serverId = $server.val();
      const current = $input.val();
      if (!serverId || serverId === '_ADD_') {
        showText('Choose a Camstack server to list its cameras, or type a camera id.');
        return;
      }
      $select.empty().append($('<option disabled></option>').text('loading…'));
      fetchCameras(serverId, serverInfo(serverId), (err, list) => {
        if (err) {
          showText(`Cameras could not be listed (${err}); type a camera id.`);
          return;
        }
        $select.empty();
        if (o.allowAll) $select.append($('<option value=""></option>').text('every camera'));
        else if (!current) $select.append($('<option value=""></option>').text('— from msg.camera —'));
        let found = !current;
        list.forEach((cam) => {
          const label = cam.name && cam.name !== cam.id ? `${cam.name} (${cam.id})` : cam.id;
          $select.append(
            $('<option></option>')
              .val(cam.id)
              .text(label + (cam.enabled ? '' : ' — disabled')),
          );
          if (cam.id === current) found = true;
        });
        if (!found) $select.append($('<option></option>').val(current).text(`${current} (not on the server)`));
        $select.val(current || '');
        $input.hide();
        $select.show();
        $tip.hide();
      });
    }

    $select.on('change', () => {
      $input.val($select.val() || '');
    });
    $refresh.on('click', (e) => {
      e.preventDefault();
      load();
    });
    $server.on('change', load);
    load();
  }

  /**
   * The config node's "Test" button: lists the cameras with the URL and token in the form now.
   * A token field left untouched shows Node-RED's placeholder: then the deployed token is used
   * (only for the deployed URL; the runtime never sends it anywhere else).
   */
  function testConnection(serverId, url, token, $out) {
    const typed = token && token !== '__PWRD__' ? token : '';
    $out.text('testing…');
    fetchCameras(serverId, { url: url, token: typed }, (err, list) => {
      if (err) $out.text(`✗ ${err}`);
      else $out.text(`✓ connected: ${list.length} camera${list.length === 1 ? '' : 's'}`);
    });
  }

  window.CamstackEditor = { cameraPicker: cameraPicker, testConnection: testConnection, fetchCameras: fetchCameras };
})();
